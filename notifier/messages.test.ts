// Message building and escaping per sink: every string another user wrote (the reason, the requester's name, a
// decision's reason) reaches Slack only as plain_text or escaped mrkdwn, the mail's HTML only escaped, and every
// format only after control and invisible formatting characters were made visible.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CloudEvent, HTTP } from 'cloudevents';
import { buildMessage, idempotencyKey, shellWord, type Message } from './messages.ts';
import { noticesOf, DEFAULT_NOTICE_TIMINGS, type Notice } from './notices.ts';
import { slackPayload } from './sinks/slack.ts';
import { mailContent } from './sinks/email.ts';
import { cloudEventOf, structuredRequest, EVENT_TYPE_PREFIX } from './sinks/cloudevents.ts';
import { escapeMrkdwn } from './sinks/text.ts';
import { T0, extendedFixture, requestFixture, type RequestFixture } from '../test/support/builders.ts';

const HOSTILE_REASON = 'need it <!channel> <https://evil.example|approve here> *bold* & <script>alert(1)</script> "q" \'s\' \u202eevil\u202c \x1b[31mred\x1b[0m\nsecond line';
const HOSTILE_USER = 'mallory<@U123>&"<img src=x onerror=alert(1)>"@example.com';

function message(f: RequestFixture, kind: Notice['kind'], webUrl?: string): Message {
  const request = requestFixture(f);
  const notices = noticesOf(request, { ...DEFAULT_NOTICE_TIMINGS, pendingReminderMs: 1 }, T0 + 10_000).due;
  const notice = notices.find((n) => n.kind === kind);
  assert.ok(notice, `no ${kind} notice among ${notices.map((n) => n.id).join(', ')}`);
  return buildMessage(request, notice, webUrl ? { webUrl } : {}, T0 + 10_000);
}

/** Every text object of a Slack payload, with its type. */
function slackTexts(payload: ReturnType<typeof slackPayload>): { type: string; text: string }[] {
  const out: { type: string; text: string }[] = [];
  for (const b of payload.blocks) {
    if ('text' in b) out.push(b.text);
    if ('fields' in b) out.push(...b.fields);
    if ('elements' in b) out.push(...b.elements);
  }
  return out;
}

describe('messages: the facts, the link and the exact commands', () => {
  it('an approval notice names the part, the namespace, and the commands to act on it', () => {
    const m = message({ phase: 'PartiallyApproved', approvedAtCreation: ['source'] }, 'approval-needed', 'https://netwatch.example.com/');
    assert.equal(m.headline, 'alice@example.com asks for access monitoring/prometheus → default/database (5432/TCP) for 2h: the target part needs an approver of namespace default.');
    assert.equal(m.subject, 'ar-1: approval needed in default');
    assert.deepEqual(m.commands, ['kubectl netwatch describe ar-1', 'kubectl netwatch approve ar-1 --part target', 'kubectl netwatch deny ar-1 --reason "…"']);
    assert.equal(m.link, 'https://netwatch.example.com/requests/ar-1');
    assert.equal(m.key, idempotencyKey('uid-1', 'approval-needed/target'));
    assert.match(m.key, /^[0-9a-f]{32}$/);
  });

  it('the idempotency key depends on the request and the notice only', () => {
    assert.equal(idempotencyKey('u', 'active'), idempotencyKey('u', 'active'));
    assert.notEqual(idempotencyKey('u', 'active'), idempotencyKey('u', 'expiring'));
    assert.notEqual(idempotencyKey('u', 'active'), idempotencyKey('v', 'active'));
  });

  it('without a web UI address there is no link', () => {
    assert.equal(message({ phase: 'Pending' }, 'approval-needed').link, undefined);
  });

  it('the requester hears the decision and its reason; Failed says why', () => {
    const denied = message({ phase: 'Denied', decision: { type: 'Denied', by: 'bob', reason: 'not now' }, endedAtMs: 1000 }, 'denied');
    assert.equal(denied.headline, 'bob denied your request ar-1 (monitoring/prometheus → default/database (5432/TCP)).');
    assert.deepEqual(denied.details, ['Reason given: not now']);
    assert.deepEqual(denied.commands, ['kubectl netwatch describe ar-1']);
    const failed = message({ phase: 'Failed', endedAtMs: 1000, endedReason: 'ServiceNotFound', endedMessage: 'service default/database does not exist' }, 'failed');
    assert.deepEqual(failed.details, ['ServiceNotFound: service default/database does not exist']);
  });

  it('an Active grant says until when; one not in force yet says so', () => {
    const open = message({ phase: 'Active', approvedAtCreation: ['source', 'target'], approvedAtMs: 0, expiresAtMs: 7200_000, ready: true }, 'active');
    assert.equal(open.headline, `Your access monitoring/prometheus → default/database (5432/TCP) is open until ${new Date(T0 + 7200_000).toISOString()}.`);
    assert.deepEqual(open.commands, ['kubectl netwatch describe ar-1', 'kubectl netwatch revoke ar-1']);
  });

  it('a name that would need quoting in a shell is quoted', () => {
    assert.equal(shellWord('ar-1.x'), 'ar-1.x');
    assert.equal(shellWord("it's $(rm -rf /)"), `'it'\\''s $(rm -rf /)'`);
  });
});

describe('Slack (Block Kit): user strings only in plain_text, mrkdwn escaped, never a button', () => {
  const m = message({ phase: 'Pending', reason: HOSTILE_REASON, username: HOSTILE_USER }, 'approval-needed', 'https://netwatch.example.com');
  const payload = slackPayload(m);
  const texts = slackTexts(payload);

  it('the reason and the requester appear only in plain_text objects', () => {
    const plain = texts.filter((t) => t.type === 'plain_text').map((t) => t.text);
    assert.ok(plain.some((t) => t.includes('<!channel>')), 'the reason is shown, as text');
    for (const t of texts.filter((x) => x.type === 'mrkdwn')) {
      assert.ok(!t.text.includes('<!channel>') && !t.text.includes('<@U123>') && !t.text.includes('<script'), t.text);
      assert.ok(!t.text.includes('scrape') && !t.text.includes('need it'), 'no reason in mrkdwn');
    }
  });

  it('the fallback text (notifications, Mattermost) is mrkdwn with &, < and > escaped: no mention, no link from a user', () => {
    assert.ok(!/<[!@#]/.test(payload.text), payload.text);
    assert.ok(payload.text.includes('mallory&lt;@U123&gt;&amp;'), payload.text);
    // The one link is ours.
    assert.deepEqual([...payload.text.matchAll(/<([^>|]+)\|/g)].map((x) => x[1]), ['https://netwatch.example.com/requests/ar-1']);
  });

  it('control and bidi characters are visible escapes, nowhere raw', () => {
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u202e\u202c\u001b]/.test(texts.map((t) => t.text).join('') + payload.text), 'no raw control characters');
    assert.ok(texts.some((t) => t.text.includes('\\u202eevil\\u202c') && t.text.includes('\\x1b[31mred')));
  });

  it('Block Kit limits hold: header ≤ 150, sections ≤ 3000, at most 10 fields of ≤ 2000', () => {
    const long = slackPayload(message({ phase: 'Pending', username: `${'u'.repeat(500)}@example.com`, reason: 'r'.repeat(512) }, 'approval-needed'));
    for (const b of long.blocks) {
      if (b.type === 'header') assert.ok([...b.text.text].length <= 150);
      if ('text' in b) assert.ok([...b.text.text].length <= 3000);
      if ('fields' in b) {
        assert.ok(b.fields.length <= 10);
        for (const f of b.fields) assert.ok([...f.text].length <= 2000);
      }
    }
  });

  it('commands and link are there; no actions block, no button, no interactive element', () => {
    const all = JSON.stringify(payload);
    assert.ok(all.includes('kubectl netwatch approve ar-1 --part'));
    assert.ok(all.includes('<https://netwatch.example.com/requests/ar-1|Open ar-1 in netwatch>'));
    assert.ok(!/"type":"(actions|button|input)"/.test(all), 'no interactive Block Kit element');
    assert.equal(payload.unfurl_links, false);
  });

  it('escapeMrkdwn escapes exactly Slack\'s control characters', () => {
    assert.equal(escapeMrkdwn('a & <b> c'), 'a &amp; &lt;b&gt; c');
  });
});

describe('email: HTML escaped by construction, text inert, subject of names only', () => {
  const m = message({ phase: 'Denied', reason: HOSTILE_REASON, username: HOSTILE_USER, decision: { type: 'Denied', by: 'bob', reason: '<b>no</b>' }, endedAtMs: 1000 }, 'denied', 'https://netwatch.example.com');
  const mail = mailContent(m);

  it('no markup from a user survives in the HTML', () => {
    assert.ok(!mail.html.includes('<script>') && !mail.html.includes('<img') && !mail.html.includes('<b>no</b>'), mail.html);
    assert.ok(mail.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(mail.html.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(mail.html.includes('&lt;b&gt;no&lt;/b&gt;'));
    assert.ok(mail.html.includes('&quot;q&quot; &#39;s&#39;'));
    // The only tags are the template's own.
    const tags = new Set([...mail.html.matchAll(/<\/?([a-z]+)/g)].map((x) => x[1]));
    assert.deepEqual([...tags].sort(), ['a', 'blockquote', 'body', 'html', 'p', 'pre', 'small', 'strong', 'table', 'td', 'th', 'tr']);
  });

  it('the link is the one href, and there is no form or button', () => {
    assert.deepEqual([...mail.html.matchAll(/href="([^"]*)"/g)].map((x) => x[1]), ['https://netwatch.example.com/requests/ar-1']);
    assert.ok(!/<(form|button|input)/i.test(mail.html));
  });

  it('text and HTML carry no raw control or bidi character', () => {
    for (const body of [mail.text, mail.html]) {
      // eslint-disable-next-line no-control-regex
      assert.ok(!/[\u202e\u202c\u001b]/.test(body));
      assert.ok(body.includes('\\u202eevil\\u202c'));
    }
    assert.ok(mail.text.includes('second line') && mail.text.includes('\\nsecond line'), 'a line break in a reason cannot fake a new line of the message');
  });

  it('the subject holds names only, on one line; the Message-ID is the idempotency key', () => {
    assert.equal(mail.subject, '[netwatch] ar-1: denied');
    assert.equal(mail.messageId, `<${m.key}@netwatch.vtk.io>`);
  });
});

describe('CloudEvents: a valid 1.0 event in structured mode, JSON-encoded', () => {
  const m = message({ phase: 'Pending', reason: HOSTILE_REASON, username: HOSTILE_USER }, 'approval-needed');

  it('its id is the idempotency key, its type names the notice, its data the request', () => {
    const event = cloudEventOf(m);
    assert.equal(event.specversion, '1.0');
    assert.equal(event.id, m.key);
    assert.equal(event.type, `${EVENT_TYPE_PREFIX}approval-needed`);
    assert.equal(event.source, '/apis/netwatch.vtk.io/v1alpha1/accessrequests/ar-1');
    assert.equal(event.subject, m.notice.id);
    assert.equal(event.time, new Date(T0).toISOString());
    assert.ok(event.validate());
  });

  it('round-trips through the SDK with every string exactly as written', () => {
    const { headers, body } = structuredRequest(m);
    assert.equal(headers['content-type'], 'application/cloudevents+json; charset=utf-8');
    const back = HTTP.toEvent({ headers, body }) as CloudEvent<{ request: { reason: string; requester: string }; commands: string[] }>;
    assert.equal(back.id, m.key);
    assert.equal(back.data?.request.reason, HOSTILE_REASON);
    assert.equal(back.data?.request.requester, HOSTILE_USER);
    assert.deepEqual(back.data?.commands, m.commands);
    assert.doesNotThrow(() => JSON.parse(body));
  });
});

describe('extensions: who asked, for how long, why, what the part needs, the exact command', () => {
  const MIN = 60_000;
  const HOUR = 60 * MIN;
  const extended = extendedFixture;
  function extensionMessage(f: RequestFixture, id: string, nowMs: number, webUrl?: string): Message {
    const request = requestFixture(f);
    const notices = noticesOf(request, DEFAULT_NOTICE_TIMINGS, T0 + nowMs).due;
    const notice = notices.find((n) => n.id === id);
    assert.ok(notice, `no ${id} notice among ${notices.map((n) => n.id).join(', ')}`);
    return buildMessage(request, notice, webUrl ? { webUrl } : {}, T0 + nowMs);
  }
  const until = new Date(T0 + 2 * HOUR).toISOString();

  it('extension-needed: the part, its namespace, the requirement from the rule book, the reason, approve without deny', () => {
    const policyStamps = { target: { approval: 'Approvers' as const, approvalRule: 'default/dba/db', approvals: 2, maxTotalDuration: '2h' } };
    const m = extensionMessage(extended({ policyStamps, extensionApprovals: [{ extension: 0, part: 'target', by: 'dba1', atMs: 35 * MIN }] }), 'extension-needed/0/target', 36 * MIN, 'https://netwatch.example.com');
    assert.equal(
      m.headline,
      `alice@example.com asks to extend ar-1 (monitoring/prometheus → default/database (5432/TCP), now until ${until}) by 1h: the target part (namespace default) needs 2 distinct approvers, the requester not counted (default/dba/db; total 3h beyond maxTotalDuration 2h); 1 so far: dba1.`,
    );
    assert.equal(m.subject, 'ar-1: extension approval needed in default');
    assert.deepEqual(m.details, ['Reason given by alice@example.com for more time: migration runs late']);
    assert.deepEqual(m.commands, ['kubectl netwatch describe ar-1', 'kubectl netwatch approve ar-1 --part target']);
    assert.equal(m.link, 'https://netwatch.example.com/requests/ar-1');
    assert.equal(m.key, idempotencyKey('uid-1', 'extension-needed/0/target'));
    assert.deepEqual(m.extension, { index: 0, duration: '1h', requestedBy: 'alice@example.com', reason: 'migration runs late', granted: false, waitingFor: ['source', 'target'] });
    assert.equal(cloudEventOf(m).type, `${EVENT_TYPE_PREFIX}extension-needed`);
  });

  it('extension-part-approved names who approved which part and what the other still needs', () => {
    const m = extensionMessage(extended({ extensionApprovals: [{ extension: 0, part: 'target', by: 'bob', atMs: 40 * MIN }] }), 'extension-part-approved/0/target', 41 * MIN);
    assert.equal(m.headline, 'bob approved extension 1 (+1h) of ar-1 (monitoring/prometheus → default/database (5432/TCP)) for the target part; the source part (namespace monitoring) still needs one approver (total 3h, no maxTotalDuration).');
    assert.deepEqual(m.commands, ['kubectl netwatch describe ar-1', 'kubectl netwatch approve ar-1 --part source']);
  });

  it('extended tells the requester the new expiry and who approved', () => {
    const approvals = [
      { extension: 0, part: 'source' as const, by: 'carol', atMs: 40 * MIN },
      { extension: 0, part: 'target' as const, by: 'bob', atMs: 45 * MIN },
    ];
    const m = extensionMessage(extended({ extensionApprovals: approvals, expiresAtMs: 3 * HOUR }), 'extended/0', 46 * MIN);
    assert.equal(m.headline, `Your access monitoring/prometheus → default/database (5432/TCP) is extended by 1h: it is open until ${new Date(T0 + 3 * HOUR).toISOString()}.`);
    assert.equal(m.subject, 'ar-1: access extended');
    assert.deepEqual(m.details, ['extension 1 (+1h) approved by carol, bob.']);
    assert.deepEqual(m.commands, ['kubectl netwatch describe ar-1', 'kubectl netwatch revoke ar-1']);
    assert.equal(m.time, new Date(T0 + 45 * MIN).toISOString(), 'due when the last part approved');
  });

  describe('the extension\'s reason is inert and escaped in every format', () => {
    const m = extensionMessage(extended({ extensions: [{ duration: '1h', by: HOSTILE_USER, atMs: 30 * MIN, reason: HOSTILE_REASON }] }), 'extension-needed/0/source', 31 * MIN, 'https://netwatch.example.com');

    it('Slack: only in plain_text, never in mrkdwn or the fallback', () => {
      const payload = slackPayload(m);
      const texts = slackTexts(payload);
      assert.ok(texts.some((t) => t.type === 'plain_text' && t.text.includes('for more time: need it <!channel>')));
      for (const t of texts.filter((x) => x.type === 'mrkdwn')) assert.ok(!t.text.includes('need it') && !t.text.includes('<@U123>'), t.text);
      assert.ok(!/<[!@#]/.test(payload.text) && !payload.text.includes('need it'), payload.text);
      // eslint-disable-next-line no-control-regex
      assert.ok(!/[\u202e\u202c\u001b]/.test(texts.map((t) => t.text).join('')) && texts.some((t) => t.text.includes('\\u202eevil\\u202c')));
    });

    it('mail: escaped HTML, inert text, subject of names only', () => {
      const mail = mailContent(m);
      assert.ok(!mail.html.includes('<script>') && !mail.html.includes('<img'), mail.html);
      assert.ok(mail.html.includes('for more time: need it &lt;!channel&gt;') && mail.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
      // eslint-disable-next-line no-control-regex
      assert.ok(!/[\u202e\u202c\u001b]/.test(mail.text + mail.html) && mail.text.includes('\\u202eevil\\u202c'));
      assert.equal(mail.subject, '[netwatch] ar-1: extension approval needed in monitoring');
    });

    it('CloudEvents: the reason exactly as written, with the extension\'s index', () => {
      const back = HTTP.toEvent(structuredRequest(m)) as CloudEvent<{ extension: { reason: string }; notice: { extension: number } }>;
      assert.equal(back.data?.extension.reason, HOSTILE_REASON);
      assert.equal(back.data?.notice.extension, 0);
    });
  });
});
