// Live updates for pages marked data-live: on a change event the page is fetched again and its <main> swapped in.
// No HTML is built here; the server renders (and escapes) everything, and DOMParser never runs scripts.
(function () {
  'use strict';
  if (!document.body || !document.body.dataset.live || !window.EventSource) return;
  var timer = null;
  var busy = false;
  function status(text) {
    var el = document.querySelector('[data-live-status]');
    if (el) el.textContent = text;
  }
  function editing() {
    var a = document.activeElement;
    return a && (a.tagName === 'INPUT' || a.tagName === 'TEXTAREA' || a.tagName === 'SELECT') && a.value !== '';
  }
  function refresh() {
    if (busy || editing()) { timer = setTimeout(refresh, 1000); return; }
    busy = true;
    fetch(window.location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (res) {
        if (!res.ok) throw new Error(String(res.status));
        return res.text();
      })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, 'text/html');
        var next = doc.querySelector('main');
        var cur = document.querySelector('main');
        if (next && cur) {
          cur.replaceWith(document.importNode(next, true));
          status('Updated ' + new Date().toLocaleTimeString());
        }
      })
      .catch(function () { status('Live updates paused; reload the page.'); })
      .then(function () { busy = false; });
  }
  var source = new EventSource('/events');
  source.addEventListener('change', function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 200);
  });
  source.addEventListener('closed', function () {
    source.close();
    status('Live updates stopped; reload the page.');
  });
})();
