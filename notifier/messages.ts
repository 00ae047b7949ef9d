// One message per notice, as plain facts and sentences: each sink renders it in its own format and escapes every
// string for it there (Block Kit plain_text and mrkdwn, HTML, JSON). Nothing here is escaped, so nothing here may
// be sent as it is. A message carries the web UI link and the exact `kubectl netwatch` commands, and never an
// approve button: approving is a status write the webhook judges, made by the approver, never by a bot.
import { createHash } from 'node:crypto';
import type { AccessRequest, PartName } from '../lib/api/accessrequest.ts';
import { describeExtensionRequirement, extensionProgress, type ExtensionPartProgress } from '../lib/domain/actions.ts';
import { formatDuration } from '../lib/domain/duration.ts';
import { ConditionType, findCondition } from '../lib/domain/phase.ts';
import { type Notice, type NoticeKind, partsWithApprovals } from './notices.ts';

export interface MessageRequest {
  name: string;
  uid: string;
  type: string;
  from: string;
  to: string;
  ports: string;
  /** External requests: ingress, egress or both. */
  direction?: string;
  duration: string;
  reason: string;
  requester: string;
  phase: string;
  approvedAt?: string;
  expiresAt?: string;
}

/** The extension a notice is about (extension-*, extended). */
export interface MessageExtension {
  /** Its index in status.extensions (shown 1-based, as `describe` does). */
  index: number;
  duration: string;
  requestedBy: string;
  reason?: string;
  granted: boolean;
  /** The parts still to approve it. */
  waitingFor: PartName[];
}

export interface Message {
  notice: Notice;
  /** The idempotency key: the same for every attempt and every sink of one notice of one request. */
  key: string;
  /** When the notice fell due (RFC 3339). */
  time: string;
  request: MessageRequest;
  parts: { part: PartName; namespace: string; approvedBy?: string }[];
  decision?: { type: string; by?: string; reason?: string };
  extension?: MessageExtension;
  /** One line saying what happened, for a title or a notification preview. */
  headline: string;
  /** A short subject made of names only (no free text): mail subjects, the Slack header. */
  subject: string;
  /** More lines of explanation. */
  details: string[];
  /** Why the recipient gets this. */
  audience: string;
  /** The request in the web UI, when its address is configured. */
  link?: string;
  /** The exact commands to act on it, one per line. */
  commands: string[];
}

export interface MessageSettings {
  /** Base address of the web UI (https://netwatch.example.com); unset: messages carry no link. */
  webUrl?: string;
}

/** A deterministic, opaque key of (request uid, notice id): 32 hex characters. */
export function idempotencyKey(requestUid: string, noticeId: string): string {
  return createHash('sha256').update(`${requestUid}/${noticeId}`).digest('hex').slice(0, 32);
}

const SAFE_WORD = /^[A-Za-z0-9._/:=@-]+$/;

/** A shell word: as it is when it needs no quoting (request names always do), else single-quoted. */
export function shellWord(text: string): string {
  return SAFE_WORD.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export function requestLink(webUrl: string | undefined, name: string): string | undefined {
  if (!webUrl) return undefined;
  return `${webUrl.replace(/\/+$/, '')}/requests/${encodeURIComponent(name)}`;
}

function commandsFor(kind: NoticeKind, name: string, part: PartName | undefined): string[] {
  const n = shellWord(name);
  const describe = `kubectl netwatch describe ${n}`;
  switch (kind) {
    case 'approval-needed':
    case 'part-approved':
    case 'pending-reminder':
      return [describe, `kubectl netwatch approve ${n}${part ? ` --part ${part}` : ''}`, `kubectl netwatch deny ${n} --reason "…"`];
    // On an Active request `approve` approves the extension waiting; nobody denies one (it just is not approved).
    case 'extension-needed':
    case 'extension-part-approved':
    case 'extension-reminder':
      return [describe, `kubectl netwatch approve ${n}${part ? ` --part ${part}` : ''}`];
    case 'extended':
    case 'active':
      return [describe, `kubectl netwatch revoke ${n}`];
    case 'expiring':
      return [describe, `kubectl netwatch extend ${n} --by 1h --reason "…"`];
    case 'denied':
    case 'revoked':
    case 'failed':
      return [describe];
  }
}

export function buildMessage(request: AccessRequest, notice: Notice, settings: MessageSettings, nowMs: number): Message {
  const status = request.status ?? {};
  const spec = request.spec;
  const name = request.metadata.name ?? '';
  const req: MessageRequest = {
    name,
    uid: request.metadata.uid ?? '',
    type: spec.type,
    // The controller writes these display forms with its first status; a notice needs a phase, so they are there.
    from: status.from ?? '',
    to: status.to ?? '',
    ports: status.portsSummary ?? 'all',
    duration: spec.duration,
    reason: spec.reason,
    requester: spec.requester?.username ?? 'unknown',
    phase: status.phase ?? 'Pending',
    ...(spec.type === 'External' && spec.direction ? { direction: spec.direction } : {}),
    ...(status.approvedAt ? { approvedAt: status.approvedAt } : {}),
    ...(status.expiresAt ? { expiresAt: status.expiresAt } : {}),
  };
  const parts = partsWithApprovals(request);
  const decision = status.decision
    ? { type: status.decision.type, ...(status.decision.by ? { by: status.decision.by } : {}), ...(status.decision.reason ? { reason: status.decision.reason } : {}) }
    : undefined;
  const audience = notice.audience;
  const part = audience.kind === 'approvers' ? audience.part : undefined;
  const ns = audience.kind === 'approvers' ? audience.namespace : '';
  const route = `${req.from} → ${req.to} (${req.ports})`;
  const ready = findCondition(status.conditions, ConditionType.Ready);
  const ended = findCondition(status.conditions, ConditionType.Ended);
  const until = req.expiresAt ? `until ${req.expiresAt}` : 'without expiry';
  const progress = notice.extension === undefined ? undefined : extensionProgress(request, notice.extension);
  const extension: MessageExtension | undefined = progress && {
    index: progress.index,
    duration: progress.extension.duration,
    requestedBy: progress.extension.requestedBy ?? 'unknown',
    ...(progress.extension.reason ? { reason: progress.extension.reason } : {}),
    granted: progress.granted,
    waitingFor: progress.waitingFor,
  };
  const ext = extension ? `extension ${extension.index + 1} (+${extension.duration})` : 'an extension';
  const partProgress = progress?.parts.find((p) => p.part === part);
  const needs = partProgress ? needsOf(partProgress) : 'an approver';
  // The extension's reason is a user's text: only in details, which every sink shows inert (never in a subject).
  const extensionReason = () => {
    if (extension?.reason) details.push(`Reason given by ${extension.requestedBy} for more time: ${extension.reason}`);
  };

  let headline: string;
  let subject: string;
  const details: string[] = [];
  switch (notice.kind) {
    case 'approval-needed':
      headline = `${req.requester} asks for access ${route} for ${req.duration}: the ${part} part needs an approver of namespace ${ns}.`;
      subject = `${name}: approval needed in ${ns}`;
      break;
    case 'part-approved': {
      const by = parts.find((p) => p.part === notice.approvedPart)?.approvedBy ?? 'someone';
      headline = `${by} approved the ${notice.approvedPart} part of ${name} (${route}); the ${part} part still needs an approver of namespace ${ns}.`;
      subject = `${name}: partially approved, still needed in ${ns}`;
      break;
    }
    case 'pending-reminder': {
      const created = Date.parse(request.metadata.creationTimestamp ?? '');
      const waited = Number.isFinite(created) ? formatDuration(Math.max(0, nowMs - created)) : 'a while';
      headline = `Reminder: ${name} (${route}, asked by ${req.requester}) has waited ${waited} for an approver of namespace ${ns} (the ${part} part).`;
      subject = `${name}: still waiting for approval in ${ns}`;
      break;
    }
    case 'active':
      if (ready?.status === 'True') {
        headline = `Your access ${route} is open ${until}.`;
      } else {
        headline = `Your access ${route} is approved but not in force yet.`;
        if (ready?.message) details.push(`Ready: ${ready.message}`);
      }
      subject = `${name}: access open`;
      break;
    case 'expiring': {
      const left = req.expiresAt ? formatDuration(Math.max(0, Date.parse(req.expiresAt) - nowMs)) : '';
      headline = `Your access ${route} expires at ${req.expiresAt ?? '?'} (in ${left}). Extend it if you still need it.`;
      subject = `${name}: access expires in ${left}`;
      break;
    }
    case 'extension-needed':
      headline = `${extension?.requestedBy ?? 'Someone'} asks to extend ${name} (${route}, now ${until}) by ${extension?.duration ?? '?'}: the ${part} part (namespace ${ns}) needs ${needs}.`;
      subject = `${name}: extension approval needed in ${ns}`;
      extensionReason();
      break;
    case 'extension-part-approved': {
      const by = progress?.parts.find((p) => p.part === notice.approvedPart)?.approvers.join(', ') || 'someone';
      headline = `${by} approved ${ext} of ${name} (${route}) for the ${notice.approvedPart} part; the ${part} part (namespace ${ns}) still needs ${needs}.`;
      subject = `${name}: extension partially approved, still needed in ${ns}`;
      extensionReason();
      break;
    }
    case 'extension-reminder': {
      const asked = Date.parse(progress?.extension.at ?? '');
      const waited = Number.isFinite(asked) ? formatDuration(Math.max(0, nowMs - asked)) : 'a while';
      headline = `Reminder: ${ext} of ${name} (${route}, asked by ${extension?.requestedBy ?? 'unknown'}) has waited ${waited}: the ${part} part (namespace ${ns}) needs ${needs}.`;
      subject = `${name}: extension still waiting for approval in ${ns}`;
      extensionReason();
      break;
    }
    case 'extended': {
      const approvers = [...new Set(progress?.parts.flatMap((p) => p.approvers) ?? [])];
      headline = `Your access ${route} is extended by ${extension?.duration ?? '?'}: it is open ${until}.`;
      subject = `${name}: access extended`;
      details.push(approvers.length > 0 ? `${ext} approved by ${approvers.join(', ')}.` : `${ext} approved automatically (within each part's maxTotalDuration).`);
      break;
    }
    case 'denied':
      headline = `${decision?.by ?? 'An approver'} denied your request ${name} (${route}).`;
      subject = `${name}: denied`;
      if (decision?.reason) details.push(`Reason given: ${decision.reason}`);
      break;
    case 'revoked':
      headline = `${decision?.by ?? 'An approver'} revoked your access ${route} (${name}).`;
      subject = `${name}: access revoked`;
      if (decision?.reason) details.push(`Reason given: ${decision.reason}`);
      break;
    case 'failed':
      headline = `Your request ${name} (${route}) failed.`;
      subject = `${name}: failed`;
      if (ended?.message) details.push(`${ended.reason}: ${ended.message}`);
      break;
  }
  const audienceText =
    audience.kind === 'approvers'
      ? `You get this as an approver of namespace ${audience.namespace}.`
      : 'You get this because you asked for this access.';
  const link = requestLink(settings.webUrl, name);
  return {
    notice,
    key: idempotencyKey(req.uid, notice.id),
    time: new Date(notice.dueAtMs).toISOString(),
    request: req,
    parts,
    ...(decision ? { decision } : {}),
    ...(extension ? { extension } : {}),
    headline,
    subject,
    details,
    audience: audienceText,
    ...(link ? { link } : {}),
    commands: commandsFor(notice.kind, name, part),
  };
}

/** The facts shown as label/value pairs by the sinks that show a table (Slack fields, the mail's table). */
export function factsOf(m: Message): [string, string][] {
  const facts: [string, string][] = [
    ['Request', m.request.name],
    ['Requester', m.request.requester],
    ['From', m.request.from],
    ['To', m.request.to],
    ['Ports', m.request.ports],
    ['Duration', m.request.duration],
  ];
  if (m.request.direction) facts.push(['Direction', m.request.direction]);
  for (const p of m.parts) facts.push([`Part ${p.part} (${p.namespace})`, p.approvedBy ? `approved by ${p.approvedBy}` : 'waiting for approval']);
  if (m.request.expiresAt) facts.push(['Expires', m.request.expiresAt]);
  if (m.extension) facts.push([`Extension ${m.extension.index + 1}`, `+${m.extension.duration}, asked by ${m.extension.requestedBy}${m.extension.granted ? ', granted' : `, waiting for ${m.extension.waitingFor.join(' and ')}`}`]);
  return facts;
}

/** What one part still needs to approve an extension, from the rule book: `2 distinct approvers, … (1 of 2 so far: dba1)`. */
function needsOf(p: ExtensionPartProgress): string {
  const sofar = p.approvers.length > 0 ? `; ${p.approvers.length} so far: ${p.approvers.join(', ')}` : '';
  return `${describeExtensionRequirement(p.requirement)}${sofar}`;
}
