// Pages. Every dynamic value goes through `html`, which escapes it; there is no other way to produce markup here.
import type { AccessRequest, PartApproversStatus, PartName } from '../lib/api/accessrequest.ts';
import { describeApprovers, describeClusterAdmins } from '../lib/domain/approvers.ts';
import { html, type HtmlValue, type SafeHtml } from '../lib/text/html.ts';
import type { Identity } from './identity.ts';
import type { ServiceSummary } from './kube.ts';
import type { PartView, RequestView } from './model.ts';
import { DIRECTIONS, type FieldErrors, type FormValues } from './forms.ts';
import { isMaterialized, previewLines, previewSummary, type PreviewLine, type RequestPreview } from '../lib/domain/preview.ts';
import { pendingExtension } from '../lib/domain/actions.ts';
import { extensionTexts, proposedExtensionLines } from '../lib/domain/extension-text.ts';

export interface PageContext {
  user?: Identity | undefined;
  csrfToken?: string | undefined;
  /** Pages that live-update carry data-live; the static script only acts on those. */
  live?: boolean;
  current?: 'hub' | 'service' | 'external';
}

export function layout(title: string, ctx: PageContext, body: HtmlValue): string {
  const nav = ctx.user
    ? html`<nav aria-label="Main">
        <a href="/" ${ctx.current === 'hub' ? html`aria-current="page"` : ''}>Requests</a>
        <a href="/new/service" ${ctx.current === 'service' ? html`aria-current="page"` : ''}>New service access</a>
        <a href="/new/external" ${ctx.current === 'external' ? html`aria-current="page"` : ''}>New external access</a>
      </nav>
      <div class="who">
        <span>Signed in as <strong data-testid="username">${ctx.user.username}</strong></span>
        <form method="post" action="/logout">${csrfField(ctx)}<button type="submit" class="link">Sign out</button></form>
      </div>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · netwatch</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/live.js" defer></script>
</head>
<body ${ctx.live ? html`data-live="1"` : ''}>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="/">netwatch</a>${nav}</header>
<main id="main" tabindex="-1">
<p class="live-status" role="status" aria-live="polite" data-live-status></p>
${body}
</main>
</body>
</html>`.toString();
}

function csrfField(ctx: PageContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrfToken ?? ''}">`;
}

export function signInPage(message?: string): string {
  return layout(
    'Sign in',
    {},
    html`<section class="card narrow">
      <h1>Sign in</h1>
      ${message ? html`<p class="error" role="alert">${message}</p>` : ''}
      <p>netwatch grants time-bound network access between services after approval. Sign in with your organisation account to continue.</p>
      <p><a class="button primary" href="/login">Sign in</a></p>
    </section>`,
  );
}

export function errorPage(status: number, message: string, ctx: PageContext = {}): string {
  return layout(
    'Error',
    ctx,
    html`<section class="card narrow"><h1>${status === 404 ? 'Not found' : 'Something went wrong'}</h1><p class="error" role="alert">${message}</p><p><a href="/">Back to requests</a></p></section>`,
  );
}

/**
 * After a sign-out that this server could not record for the others: the cookie is gone from this browser, but a
 * copy of it would still work elsewhere until `until` (RFC 3339). The IdP's sign-out is still offered.
 */
export function signedOutHereOnlyPage(until: string, endSessionUrl: string | undefined): string {
  return layout(
    'Signed out',
    {},
    html`<section class="card narrow">
      <h1>Signed out of this browser</h1>
      <p class="error" role="alert">netwatch could not record the sign-out for all of its servers. This browser no longer holds the session, but a copy of its cookie would still be accepted by another netwatch server until ${time(until)}. If the cookie may have been copied, tell your administrator.</p>
      <p>${endSessionUrl ? html`<a class="button primary" href="${endSessionUrl}">Sign out at the identity provider</a> ` : ''}<a href="/">Back to netwatch</a></p>
    </section>`,
  );
}

export function continuePage(to: string): string {
  // A same-site navigation started by this page, so the SameSite=Strict session cookie is sent with it (a
  // redirect chain that began at the IdP would count as cross-site and drop it).
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${to}"><title>Signing in · netwatch</title><link rel="stylesheet" href="/static/app.css"></head><body><main id="main"><p>Signed in. <a href="${to}">Continue</a></p></main></body></html>`.toString();
}

const PHASE_CLASS: Record<string, string> = {
  Pending: 'pending',
  PartiallyApproved: 'pending',
  Active: 'active',
  Denied: 'bad',
  Aborted: 'muted',
  Revoked: 'muted',
  Expired: 'muted',
  Failed: 'bad',
};

function phaseBadge(phase: string): SafeHtml {
  return html`<span class="badge ${PHASE_CLASS[phase] ?? 'muted'}" data-testid="phase">${phase}</span>`;
}

export function fromOf(r: AccessRequest): string {
  if (r.status?.from) return r.status.from;
  if (r.spec.type === 'Service') return `${r.spec.source?.namespace ?? '?'}/${r.spec.source?.service ?? '?'}`;
  return r.spec.direction === 'egress' ? `${r.spec.service?.namespace ?? '?'}/${r.spec.service?.name ?? '?'}` : (r.spec.cidrs ?? []).join(', ');
}

export function toOf(r: AccessRequest): string {
  if (r.status?.to) return r.status.to;
  if (r.spec.type === 'Service') return `${r.spec.target?.namespace ?? '?'}/${r.spec.target?.service ?? '?'}`;
  return r.spec.direction === 'egress' ? (r.spec.cidrs ?? []).join(', ') : `${r.spec.service?.namespace ?? '?'}/${r.spec.service?.name ?? '?'}`;
}

export function portsOf(r: AccessRequest): string {
  if (r.status?.portsSummary) return r.status.portsSummary;
  const ports = r.spec.ports ?? [];
  return ports.length === 0 ? 'all ports of the service' : ports.map((p) => `${p.port}/${p.protocol}`).join(', ');
}

function time(iso: string | undefined): SafeHtml {
  if (!iso) return html`<span class="muted">—</span>`;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')}</time>`;
}

/** A pending part's approvers as the controller recorded them from RBAC; cluster admins apart. */
function whoCanApprove(who: PartApproversStatus | undefined, part: string): SafeHtml | string {
  if (!who) return '';
  return html`<br><span data-testid="approvers-${part}">Who can approve: ${describeApprovers(who)}</span>${
    who.clusterAdmins.length > 0 ? html`<br><span class="muted">Cluster admins (not counted): ${describeClusterAdmins(who)}</span>` : ''
  }`;
}

/** The AccessPolicy rule of a part, its approvals so far (by whom) and how many are missing. */
function accessPolicyOf(p: PartView): SafeHtml | string {
  if (!p.policy) return '';
  return html`<br><span class="policy" data-testid="access-policy-${p.part}">Policy: ${p.policy}</span>${
    p.approvedSoFarBy ? html`<br><span class="muted" data-testid="approved-so-far-${p.part}">Approved so far by: ${p.approvedSoFarBy.join(', ')}</span>` : ''
  }`;
}

function partsCell(parts: PartView[]): SafeHtml {
  return html`<ul class="parts">${parts.map(
    (p) => html`<li>
      ${p.approval
        ? html`<span class="check" aria-hidden="true">✓</span> <span><strong>${p.namespace}</strong> approved by ${p.approval.by ?? 'unknown'}</span>`
        : p.viewerMayApprove
          ? html`<span class="check" aria-hidden="true">✓</span> <span><strong>${p.namespace}</strong> pending — <em>you may approve</em></span>`
          : html`<span class="cross" aria-hidden="true">•</span> <span><strong>${p.namespace}</strong> pending — needs ${p.permission}</span>`}
      ${p.policy ? html`<div class="muted policy">Policy: ${p.policy}</div>` : ''}
    </li>`,
  )}</ul>`;
}

/** The actions a viewer may take, each a GET to its confirmation page (which holds the POST, CSRF-protected). */
function actionForms(r: AccessRequest, v: RequestView): SafeHtml {
  const name = r.metadata.name ?? '';
  const confirm = (action: ConfirmAction, label: string, cls: string, ariaLabel: string, part?: PartName) =>
    html`<form method="get" action="/requests/${name}/confirm" class="inline"><input type="hidden" name="action" value="${action}">${part ? html`<input type="hidden" name="part" value="${part}">` : ''}<button type="submit" class="${cls}" aria-label="${ariaLabel}">${label}</button></form>`;
  return html`<div class="actions">
    ${v.actions.approve.map((part: PartName) => confirm('approve', `Approve ${v.parts.find((p) => p.part === part)?.namespace ?? part}`, 'primary', `Approve ${part} of ${name}`, part))}
    ${v.actions.approveExtension.map((part: PartName) => confirm('approve-extension', `Approve extension for ${v.parts.find((p) => p.part === part)?.namespace ?? part}`, 'primary', `Approve extension ${part} of ${name}`, part))}
    ${v.actions.deny ? confirm('deny', 'Deny', 'danger', `Deny ${name}`) : ''}
    ${v.actions.abort ? confirm('abort', 'Abort', 'secondary', `Abort ${name}`) : ''}
    ${v.actions.revoke ? confirm('revoke', 'Revoke', 'danger', `Revoke ${name}`) : ''}
  </div>`;
}

export type ConfirmAction = 'approve' | 'deny' | 'abort' | 'revoke' | 'extend' | 'approve-extension';

/** The Extend step of an Active grant: how much longer, then its confirmation page (a GET; the POST is there). */
function extendForm(r: AccessRequest, value: string | undefined, error: string | undefined): SafeHtml {
  const name = r.metadata.name ?? '';
  return html`<form method="get" action="/requests/${name}/confirm" class="extend" data-testid="extend-form">
    <input type="hidden" name="action" value="extend">
    <div class="field ${error ? 'invalid' : ''}"><label for="duration">Extend by</label>
      <input id="duration" name="duration" value="${value ?? ''}" maxlength="32" required placeholder="1h" autocomplete="off" aria-describedby="duration-hint${error ? ' duration-error' : ''}" ${error ? html`aria-invalid="true"` : ''}>
      <p class="hint" id="duration-hint">How much longer, e.g. 30m, 1h or 1h30m. The approvers of each part approve it again, unless their AccessPolicy allows it.</p>
      ${error ? html`<p class="field-error" id="duration-error">${error}</p>` : ''}
    </div>
    <button type="submit" class="secondary" aria-label="Extend ${name}">Extend</button>
  </form>`;
}

/** Every extension of the grant: granted or waiting, and what each part still needs. */
function extensionsSection(r: AccessRequest): SafeHtml | string {
  const texts = extensionTexts(r);
  if (texts.length === 0) return '';
  return html`<section class="card" aria-labelledby="h-extensions" data-testid="extensions">
    <h2 id="h-extensions">Extensions</h2>
    <ul>${texts.map(
      (t) => html`<li data-testid="extension-${t.progress.index + 1}"><strong>${t.progress.granted ? '✓ ' : '… '}</strong>${t.headline}<ul>${t.parts.map((line) => html`<li>${line}</li>`)}</ul></li>`,
    )}</ul>
  </section>`;
}

/** The preview of a request (lib/domain/preview.ts) as nested lists; every line escaped, risks marked. */
/** The NetworkPolicies maxtac wrote for this request, as the preview read them (the one read of them). */
function policiesInForce(preview: RequestPreview | null | undefined): SafeHtml {
  if (!preview) return html`<p class="muted">The NetworkPolicies could not be read.</p>`;
  if (!preview.real) return html`<p class="muted">None.</p>`;
  return html`${preview.real.map(({ namespace, items }) =>
    'unreadable' in items
      ? html`<p class="muted">${namespace}: ${items.unreadable}.</p>`
      : items.length === 0
        ? html`<p class="muted">No NetworkPolicy for this request in ${namespace} yet.</p>`
        : html`<ul>${items.map((np) => html`<li data-testid="policy"><span class="mono">${np.namespace}/${np.name}</span> (${np.policyTypes.join(', ')}) from ${np.owner}</li>`)}</ul>`,
  )}`;
}

function previewSection(preview: RequestPreview | null | undefined, materialized: boolean): SafeHtml {
  const heading = materialized ? 'Preview: as granted now' : 'Preview: what approving would do';
  if (!preview) {
    return html`<section class="card" aria-labelledby="h-preview" data-testid="request-preview"><h2 id="h-preview">${heading}</h2><p class="muted">The preview could not be read.</p></section>`;
  }
  const lines = previewLines(preview, { materialized });
  // Lines come in depth order (a line's children follow it): nest them as lists.
  const render = (from: number, depth: number): [SafeHtml, number] => {
    const items: SafeHtml[] = [];
    let i = from;
    while (i < lines.length) {
      const line = lines[i] as PreviewLine;
      if (line.depth < depth) break;
      const [children, next] = lines[i + 1] && (lines[i + 1] as PreviewLine).depth > depth ? render(i + 1, depth + 1) : [html``, i + 1];
      items.push(html`<li class="${line.warn ? 'risk' : ''}">${line.warn ? html`<strong>! </strong>` : ''}${line.text}${children}</li>`);
      i = next;
    }
    return [html`<ul>${items}</ul>`, i];
  };
  return html`<section class="card" aria-labelledby="h-preview" data-testid="request-preview">
    <h2 id="h-preview">${heading}</h2>
    <p class="muted">From what you may read. The controller's --isolation setting is not published: each setting's outcome is shown.</p>
    ${render(0, 0)[0]}
  </section>`;
}

export interface ConfirmData {
  req: AccessRequest;
  view: RequestView;
  action: ConfirmAction;
  part?: PartName | undefined;
  /** extend: how much longer (checked by the route). */
  duration?: string | undefined;
  preview: RequestPreview | null | undefined;
}

const CONFIRM_WORDS: Record<ConfirmAction, { title: string; button: string; type?: 'Denied' | 'Aborted' | 'Revoked' }> = {
  approve: { title: 'Approve', button: 'Confirm approval' },
  deny: { title: 'Deny', button: 'Confirm denial', type: 'Denied' },
  abort: { title: 'Abort', button: 'Confirm abort', type: 'Aborted' },
  revoke: { title: 'Revoke', button: 'Confirm revocation', type: 'Revoked' },
  extend: { title: 'Extend', button: 'Confirm extension' },
  'approve-extension': { title: 'Approve the extension', button: 'Confirm extension approval' },
};

/** What the extension asked for (or waiting) needs, above the access's own summary. */
function extensionSummary(d: ConfirmData): SafeHtml | string {
  if (d.action === 'extend') {
    const mayApprove = new Set(d.view.parts.filter((p) => p.viewerMayApprove).map((p) => p.part));
    const lines = proposedExtensionLines(d.req, d.duration ?? '', (p) => mayApprove.has(p.part));
    return html`<div data-testid="extension-summary"><p>Expires now: ${time(d.req.status?.expiresAt)}; once every part approved it, ${d.duration ?? ''} later.</p><ul>${lines.map((l) => html`<li>${l}</li>`)}</ul></div>`;
  }
  if (d.action === 'approve-extension') {
    const pending = pendingExtension(d.req);
    const text = pending ? extensionTexts(d.req)[pending.index] : undefined;
    return text ? html`<div data-testid="extension-summary"><p>${text.headline}</p><ul>${text.parts.map((l) => html`<li>${l}</li>`)}</ul></div>` : '';
  }
  return '';
}

/** The confirmation step of an action: the preview's summary, then the one POST (CSRF token included). */
export function confirmPage(ctx: PageContext, d: ConfirmData): string {
  const name = d.view.name;
  const words = CONFIRM_WORDS[d.action];
  const part = d.part ? d.view.parts.find((p) => p.part === d.part) : undefined;
  const what =
    d.action === 'approve' ? html`the ${d.part ?? ''} part (${part?.namespace ?? ''}) of` : d.action === 'approve-extension' ? html`for the ${d.part ?? ''} part (${part?.namespace ?? ''}) of` : '';
  const by = d.action === 'extend' ? html` by ${d.duration ?? ''}` : '';
  const summary = d.preview ? previewSummary(d.preview) : [];
  const form =
    d.action === 'approve' || d.action === 'approve-extension'
      ? html`<form method="post" action="/requests/${name}/${d.action}">${csrfField(ctx)}<input type="hidden" name="part" value="${d.part ?? ''}"><button type="submit" class="primary">${words.button}</button></form>`
      : d.action === 'extend'
        ? html`<form method="post" action="/requests/${name}/extend">${csrfField(ctx)}<input type="hidden" name="duration" value="${d.duration ?? ''}">
          <div class="field"><label for="reason">Reason (optional)</label><input id="reason" name="reason" maxlength="512"></div>
          <button type="submit" class="primary">${words.button}</button></form>`
        : html`<form method="post" action="/requests/${name}/decision">${csrfField(ctx)}<input type="hidden" name="type" value="${words.type ?? ''}">
          <div class="field"><label for="reason">Reason${d.action === 'deny' ? '' : ' (optional)'}</label><input id="reason" name="reason" maxlength="512" ${d.action === 'deny' ? html`required` : ''}></div>
          <button type="submit" class="${d.action === 'abort' ? 'secondary' : 'danger'}">${words.button}</button></form>`;
  return layout(
    `${words.title} ${name}?`,
    ctx,
    html`<p><a href="/requests/${name}">← Back to the request</a></p>
    <h1>${words.title} ${what} <span class="mono">${name}</span>${by}?</h1>
    <section class="card" aria-labelledby="h-summary" data-testid="confirm-summary">
      <h2 id="h-summary">What this access reaches</h2>
      <dl class="grid">
        <div><dt>From</dt><dd>${fromOf(d.req)}</dd></div>
        <div><dt>To</dt><dd>${toOf(d.req)}</dd></div>
        <div><dt>Ports</dt><dd>${portsOf(d.req)}</dd></div>
        <div><dt>Requester</dt><dd>${d.req.spec.requester?.username ?? ''}</dd></div>
        <div><dt>Reason</dt><dd><span class="reason">${d.req.spec.reason}</span></dd></div>
      </dl>
      ${extensionSummary(d)}
      ${summary.length > 0 ? html`<ul>${summary.map((line) => html`<li>${line}</li>`)}</ul>` : html`<p class="muted">The preview could not be read.</p>`}
      <div class="actions">${form}<a href="/requests/${name}">Cancel</a></div>
    </section>
    ${previewSection(d.preview, isMaterialized(d.req))}`,
  );
}

export interface HubRow {
  req: AccessRequest;
  view: RequestView;
}

export function hubPage(ctx: PageContext, rows: HubRow[], notice?: string): string {
  const waiting = rows.filter((r) => r.view.phase === 'Pending' || r.view.phase === 'PartiallyApproved');
  const active = rows.filter((r) => r.view.phase === 'Active');
  const closed = rows.filter((r) => !waiting.includes(r) && !active.includes(r));
  const link = (r: AccessRequest) => html`<a href="/requests/${r.metadata.name ?? ''}">${r.metadata.name ?? ''}</a>`;
  const empty = (cols: number, text: string) => html`<tr><td colspan="${cols}" class="muted">${text}</td></tr>`;
  return layout(
    'Requests',
    { ...ctx, live: true, current: 'hub' },
    html`<h1>Access requests</h1>
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
    <section aria-labelledby="h-waiting">
      <h2 id="h-waiting">Waiting for approval <span class="count">${waiting.length}</span></h2>
      <div class="table-wrap"><table data-testid="waiting">
        <thead><tr><th scope="col">Request</th><th scope="col">From → To</th><th scope="col">Ports</th><th scope="col">Requester</th><th scope="col">Reason</th><th scope="col">Parts</th><th scope="col">Actions</th></tr></thead>
        <tbody>${waiting.length === 0 ? empty(7, 'Nothing is waiting.') : waiting.map(
          ({ req, view }) => html`<tr data-request="${req.metadata.name ?? ''}">
            <td>${link(req)}<br>${phaseBadge(view.phase)}</td>
            <td>${fromOf(req)} → ${toOf(req)}</td>
            <td>${portsOf(req)}</td>
            <td>${req.spec.requester?.username ?? ''}</td>
            <td class="reason">${req.spec.reason}</td>
            <td>${partsCell(view.parts)}</td>
            <td>${actionForms(req, view)}</td>
          </tr>`,
        )}</tbody>
      </table></div>
    </section>
    <section aria-labelledby="h-active">
      <h2 id="h-active">Active accesses <span class="count">${active.length}</span></h2>
      <div class="table-wrap"><table data-testid="active">
        <thead><tr><th scope="col">Request</th><th scope="col">From → To</th><th scope="col">Ports</th><th scope="col">Requester</th><th scope="col">Expires</th><th scope="col">Actions</th></tr></thead>
        <tbody>${active.length === 0 ? empty(6, 'No access is active.') : active.map(
          ({ req, view }) => html`<tr data-request="${req.metadata.name ?? ''}">
            <td>${link(req)}<br>${phaseBadge(view.phase)}</td>
            <td>${fromOf(req)} → ${toOf(req)}</td>
            <td>${portsOf(req)}</td>
            <td>${req.spec.requester?.username ?? ''}</td>
            <td>${req.status?.expiresAt ? time(req.status.expiresAt) : req.spec.duration === 'unlimited' ? 'never' : '—'}</td>
            <td>${actionForms(req, view)}</td>
          </tr>`,
        )}</tbody>
      </table></div>
    </section>
    <section aria-labelledby="h-history">
      <h2 id="h-history">History <span class="count">${closed.length}</span></h2>
      <div class="table-wrap"><table data-testid="history">
        <thead><tr><th scope="col">Request</th><th scope="col">From → To</th><th scope="col">Requester</th><th scope="col">Outcome</th><th scope="col">Created</th></tr></thead>
        <tbody>${closed.length === 0 ? empty(5, 'No history yet.') : closed.slice(0, 100).map(
          ({ req, view }) => html`<tr data-request="${req.metadata.name ?? ''}">
            <td>${link(req)}</td>
            <td>${fromOf(req)} → ${toOf(req)}</td>
            <td>${req.spec.requester?.username ?? ''}</td>
            <td>${phaseBadge(view.phase)}${req.status?.decision?.by ? html` by ${req.status.decision.by}` : ''}</td>
            <td>${time(req.metadata.creationTimestamp)}</td>
          </tr>`,
        )}</tbody>
      </table></div>
    </section>`,
  );
}

export interface DetailData {
  req: AccessRequest;
  view: RequestView;
  error?: string | undefined;
  notice?: string | undefined;
  /** What approving would do (or, once materialized, what is granted); null when it could not be read. */
  preview?: RequestPreview | null | undefined;
  /** The Extend form's value and its error, when a confirmation refused it. */
  extend?: { duration?: string | undefined; error?: string | undefined } | undefined;
}

export function detailPage(ctx: PageContext, d: DetailData): string {
  const { req, view } = d;
  const s = req.status ?? {};
  const row = (label: string, value: HtmlValue) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`;
  return layout(
    `Request ${view.name}`,
    { ...ctx, live: true },
    html`<p><a href="/">← All requests</a></p>
    <h1>Request <span class="mono">${view.name}</span> ${phaseBadge(view.phase)}</h1>
    ${d.error ? html`<p class="error" role="alert">${d.error}</p>` : ''}
    ${d.notice ? html`<p class="notice" role="status">${d.notice}</p>` : ''}
    <section class="card" aria-labelledby="h-summary">
      <h2 id="h-summary">Summary</h2>
      <dl class="grid">
        ${row('Type', req.spec.type === 'Service' ? 'Service to service' : 'External CIDRs')}
        ${row('From', fromOf(req))}
        ${row('To', toOf(req))}
        ${req.spec.type === 'External' ? row('Direction', req.spec.direction ?? '') : ''}
        ${row('Ports', portsOf(req))}
        ${row('Duration', req.spec.duration)}
        ${row('Requester', req.spec.requester?.username ?? '')}
        ${row('Reason', html`<span class="reason" data-testid="reason">${req.spec.reason}</span>`)}
        ${row('Created', time(req.metadata.creationTimestamp))}
        ${row('Approved', time(s.approvedAt))}
        ${row('Expires', s.expiresAt ? time(s.expiresAt) : req.spec.duration === 'unlimited' ? 'never' : '—')}
        ${s.decision ? row('Decision', html`${s.decision.type} by ${s.decision.by ?? 'unknown'} ${time(s.decision.at)}${s.decision.reason ? html` — <span class="reason">${s.decision.reason}</span>` : ''}`) : ''}
      </dl>
      ${actionForms(req, view)}
      ${view.actions.extend ? extendForm(req, d.extend?.duration, d.extend?.error) : ''}
    </section>
    ${extensionsSection(req)}
    ${d.preview !== undefined ? previewSection(d.preview, isMaterialized(req)) : ''}
    <section class="card" aria-labelledby="h-parts">
      <h2 id="h-parts">Approvals</h2>
      <table><thead><tr><th scope="col">Part</th><th scope="col">Namespace</th><th scope="col">Permission needed</th><th scope="col">State</th></tr></thead>
      <tbody>${view.parts.map((p) => {
        const st = s.parts?.find((x) => x.part === p.part);
        return html`<tr>
          <td>${p.part}</td><td>${p.namespace}</td><td>${p.viewerMayApprove ? html`<span class="check" aria-hidden="true">✓</span> <span class="sr-only">You have it: </span>` : ''}${p.permission}</td>
          <td>${p.approval ? html`Approved by ${p.approval.by ?? 'unknown'} ${time(p.approval.at)}` : 'Pending'}${st && (st.state !== 'Pending' || st.message) ? html`<br><span class="muted">${st.state}${st.message ? html`: ${st.message}` : ''}</span>` : ''}${whoCanApprove(p.approval ? undefined : st?.approvers, p.part)}${accessPolicyOf(p)}</td>
        </tr>`;
      })}</tbody></table>
    </section>
    <section class="card" aria-labelledby="h-objects">
      <h2 id="h-objects">Objects</h2>
      ${(s.objects ?? []).length === 0
        ? html`<p class="muted">Nothing materialized.</p>`
        : html`<table><thead><tr><th scope="col">Kind</th><th scope="col">Namespace</th><th scope="col">Name</th><th scope="col">Part</th></tr></thead><tbody>${(s.objects ?? []).map(
            (o) => html`<tr><td>${o.kind}</td><td>${o.namespace}</td><td class="mono">${o.name}</td><td>${o.part ?? ''}</td></tr>`,
          )}</tbody></table>`}
      <h3>NetworkPolicies</h3>
      ${policiesInForce(d.preview)}
    </section>
    ${(s.conditions ?? []).length > 0
      ? html`<section class="card" aria-labelledby="h-conditions"><h2 id="h-conditions">Conditions</h2>
        <table><thead><tr><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Message</th><th scope="col">Since</th></tr></thead>
        <tbody>${(s.conditions ?? []).map((c) => html`<tr><td>${c.type}</td><td>${c.status}</td><td>${c.reason}</td><td>${c.message}</td><td>${time(c.lastTransitionTime)}</td></tr>`)}</tbody></table></section>`
      : ''}`,
  );
}

function field(id: string, label: string, control: SafeHtml, errors: FieldErrors, hint?: string): SafeHtml {
  const err = errors[id];
  return html`<div class="field ${err ? 'invalid' : ''}">
    <label for="${id}">${label}</label>
    ${control}
    ${hint ? html`<p class="hint" id="${id}-hint">${hint}</p>` : ''}
    ${err ? html`<p class="field-error" id="${id}-error">${err}</p>` : ''}
  </div>`;
}

function describedBy(id: string, errors: FieldErrors, hint: boolean): SafeHtml {
  const ids = [hint ? `${id}-hint` : '', errors[id] ? `${id}-error` : ''].filter(Boolean).join(' ');
  return ids ? html`aria-describedby="${ids}" ${errors[id] ? html`aria-invalid="true"` : ''}` : html``;
}

function textInput(id: string, v: FormValues, errors: FieldErrors, attrs: { list?: string; required?: boolean; placeholder?: string; hint?: boolean } = {}): SafeHtml {
  return html`<input id="${id}" name="${id}" value="${v[id] ?? ''}" ${attrs.list ? html`list="${attrs.list}"` : ''} ${attrs.required === false ? '' : html`required`} maxlength="63" autocomplete="off" ${attrs.placeholder ? html`placeholder="${attrs.placeholder}"` : ''} ${describedBy(id, errors, attrs.hint === true)}>`;
}

function select(id: string, options: string[], v: FormValues, errors: FieldErrors): SafeHtml {
  return html`<select id="${id}" name="${id}" ${describedBy(id, errors, false)}>${options.map((o) => html`<option value="${o}" ${v[id] === o ? html`selected` : ''}>${o}</option>`)}</select>`;
}

/**
 * Pickers without script: namespaces, Services (each labelled with its namespaces), and the ports of the target
 * Service once the form names one (after "Check my permissions" or a refused submit), each alone and all together.
 */
function datalists(services: ServiceSummary[] | null, values: FormValues, type: 'Service' | 'External'): SafeHtml {
  if (!services) return html``;
  const namespaces = [...new Set(services.map((s) => s.namespace))].sort();
  const byName = new Map<string, string[]>();
  for (const s of services) byName.set(s.name, [...(byName.get(s.name) ?? []), s.namespace]);
  const names = [...byName.keys()].sort();
  const [ns, name] = type === 'Service' ? [values['targetNamespace'], values['targetService']] : [values['namespace'], values['service']];
  const target = services.find((s) => s.namespace === ns && s.name === name);
  const ports = (target?.ports ?? []).map((p) => `${p.port}/${p.protocol || 'TCP'}`);
  const choices = ports.length > 1 ? [...ports, ports.join(', ')] : ports;
  return html`<datalist id="namespaces">${namespaces.map((n) => html`<option value="${n}">`)}</datalist>
    <datalist id="services">${names.map((n) => html`<option value="${n}" label="${(byName.get(n) ?? []).sort().join(', ')}">`)}</datalist>
    <datalist id="ports">${choices.map((p) => html`<option value="${p}" label="${ns ?? ''}/${name ?? ''}">`)}</datalist>`;
}

export interface PreviewPart {
  part: PartName;
  namespace: string;
  permission: string;
  satisfied: boolean;
}

export interface FormData {
  values: FormValues;
  errors: FieldErrors;
  durations: string[];
  services: ServiceSummary[] | null;
  error?: string | undefined;
  /** The parts the request would have and whether the user may approve each (after "Check permissions"). */
  preview?: PreviewPart[] | undefined;
}

function previewPanel(parts: PreviewPart[]): SafeHtml {
  const all = parts.every((p) => p.satisfied);
  const none = parts.every((p) => !p.satisfied);
  return html`<section class="card preview" aria-labelledby="h-preview" data-testid="preview">
    <h2 id="h-preview">Your permissions</h2>
    <ul class="parts">${parts.map(
      (p) => html`<li>${p.satisfied ? html`<span class="check" aria-hidden="true">✓</span>` : html`<span class="cross" aria-hidden="true">•</span>`}
        <span><strong>${p.namespace}</strong> (${p.part}): ${p.satisfied ? 'you may approve this part, it is approved when you submit' : html`needs an approver — ${p.permission}`}</span></li>`,
    )}</ul>
    <p>${all ? 'You may approve every part: submitting creates the access at once.' : none ? 'Submitting sends the request for review.' : 'Submitting approves your parts and sends the rest for review.'}</p>
  </section>`;
}

function formShell(title: string, intro: string, ctx: PageContext, d: FormData, type: 'Service' | 'External', fields: SafeHtml): string {
  const errorCount = Object.keys(d.errors).length;
  return layout(
    title,
    { ...ctx, current: type === 'Service' ? 'service' : 'external' },
    html`<h1>${title}</h1>
    <p class="lead">${intro}</p>
    ${d.error ? html`<p class="error" role="alert">${d.error}</p>` : ''}
    ${errorCount > 0 ? html`<p class="error" role="alert">Please correct ${errorCount} ${errorCount === 1 ? 'field' : 'fields'} below.</p>` : ''}
    <form method="post" action="/requests" class="card form" novalidate>
      ${csrfField(ctx)}
      <input type="hidden" name="type" value="${type}">
      ${fields}
      ${field('ports', 'Ports', textInput('ports', d.values, d.errors, { list: 'ports', required: false, placeholder: '5432, 53/UDP', hint: true }), d.errors, 'Comma separated; protocol TCP unless /UDP or /SCTP. Empty means every port of the service.')}
      ${field('duration', 'Duration', select('duration', d.durations, d.values, d.errors), d.errors)}
      ${field('reason', 'Reason', html`<textarea id="reason" name="reason" rows="3" maxlength="512" required ${describedBy('reason', d.errors, false)}>${d.values['reason'] ?? ''}</textarea>`, d.errors)}
      ${d.preview ? previewPanel(d.preview) : ''}
      <div class="form-actions">
        <button type="submit" class="primary">${d.preview?.every((p) => p.satisfied) ? 'Create access' : 'Submit request'}</button>
        <button type="submit" formaction="/requests/preview" formnovalidate>Check my permissions</button>
      </div>
      <p class="hint">Parts you may approve yourself are approved at once; the others wait for an approver of their namespace.</p>
    </form>
    ${datalists(d.services, d.values, type)}`,
  );
}

export function serviceFormPage(ctx: PageContext, d: FormData): string {
  return formShell(
    'New service access',
    'Ask for a time-bound network path from one service to another.',
    ctx,
    d,
    'Service',
    html`<fieldset><legend>From (source)</legend>
        ${field('sourceNamespace', 'Namespace', textInput('sourceNamespace', d.values, d.errors, { list: 'namespaces' }), d.errors)}
        ${field('sourceService', 'Service', textInput('sourceService', d.values, d.errors, { list: 'services' }), d.errors)}
      </fieldset>
      <fieldset><legend>To (target)</legend>
        ${field('targetNamespace', 'Namespace', textInput('targetNamespace', d.values, d.errors, { list: 'namespaces' }), d.errors)}
        ${field('targetService', 'Service', textInput('targetService', d.values, d.errors, { list: 'services' }), d.errors)}
      </fieldset>`,
  );
}

export function externalFormPage(ctx: PageContext, d: FormData): string {
  return formShell(
    'New external access',
    'Ask for a time-bound network path between external CIDRs and a service.',
    ctx,
    d,
    'External',
    html`<fieldset><legend>Service</legend>
        ${field('namespace', 'Namespace', textInput('namespace', d.values, d.errors, { list: 'namespaces' }), d.errors)}
        ${field('service', 'Service', textInput('service', d.values, d.errors, { list: 'services' }), d.errors)}
      </fieldset>
      ${field('cidrs', 'CIDRs', html`<textarea id="cidrs" name="cidrs" rows="2" required ${describedBy('cidrs', d.errors, true)}>${d.values['cidrs'] ?? ''}</textarea>`, d.errors, 'One per line or comma separated, with a prefix: 203.0.113.7/32')}
      ${field('direction', 'Direction', select('direction', DIRECTIONS, d.values, d.errors), d.errors, 'ingress: the CIDRs reach the service; egress: the service reaches the CIDRs.')}`,
  );
}
