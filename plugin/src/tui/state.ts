// UI state of the interactive view as a pure reducer, plus the key map that turns a key press into an action
// and (at most one) effect for the App to perform against the cluster. Nothing here renders or does I/O, so the
// whole interaction is tested without a terminal (state.test.ts).
import { isDns1123Label } from '../../../lib/api/names.ts';
import { REASON_MAX_LENGTH, type AccessRequest, type AccessRequestSpec, type PartName } from '../../../lib/api/accessrequest.ts';
import type { RequestPreview } from '../../../lib/domain/preview.ts';
import { mayExtend } from '../../../lib/domain/actions.ts';
import { proposedExtensionLines } from '../../../lib/domain/extension-text.ts';
import type { Identity } from '../services/port.ts';
import type { Action as RequestAction, Materialized } from '../services/requests.ts';
import { byNewest, matches, phase, specErrors, viewOf, type RequestView } from '../services/requests.ts';
import { parsePorts } from '../services/requests.ts';
import { openingRequest, whyQuery, type OpeningRequest, type WhyQuery, type WhyResult } from '../services/why.ts';
import { UserError } from '../errors.ts';

export type Tab = 'pending' | 'active' | 'mine' | 'all';
export const TABS: readonly Tab[] = ['pending', 'active', 'mine', 'all'];
export type Screen = 'hub' | 'detail' | 'service' | 'external' | 'why' | 'why-result' | 'help';

export interface ServiceInfo {
  name: string;
  ports: string[];
}

/** The two request forms, and the query form of "why is FROM → TO on PORT blocked?". */
export type FormKind = 'service' | 'external' | 'why';

export interface FormField {
  key: string;
  label: string;
  value: string;
  /** For choice fields: the allowed values (cycled with ←/→ or space). */
  choices?: readonly string[];
  placeholder?: string;
}

export interface FormState {
  kind: FormKind;
  fields: FormField[];
  /** Index of the focused field; fields.length is the Submit button. */
  focus: number;
  submitted: boolean;
  busy: boolean;
}

/**
 * The confirmation of an action on a request: Enter confirms, Esc cancels. Approve, deny, abort, revoke and extend
 * all ask first, showing the preview's summary (pods, ports, risk); deny, abort, revoke and extend also take a
 * reason. Extend first asks for the duration (`editing`), checked before the confirmation.
 */
export interface Prompt {
  action: 'approve' | 'deny' | 'abort' | 'revoke' | 'extend';
  name: string;
  reason: string;
  required: boolean;
  /** extend: how much longer, e.g. 1h. */
  duration?: string;
  /** extend: the duration is being typed (Enter checks it and moves on to the confirmation). */
  editing?: 'duration';
}

/** "Why is FROM → TO on PORT blocked?": the query asked (and its form, to ask again), and the answer once it came. */
export interface WhyState {
  form: FormState;
  query: WhyQuery;
  /** undefined while the policies are read and evaluated. */
  result?: WhyResult | undefined;
  error?: string | undefined;
}

export interface Message {
  kind: 'info' | 'error';
  text: string;
}

export interface State {
  screen: Screen;
  previous: Screen;
  tab: Tab;
  requests: Record<string, AccessRequest>;
  loaded: boolean;
  selected: number;
  me?: Identity | undefined;
  /** Per request name: may the user approve each part (SelfSubjectAccessReview answers). */
  perms: Record<string, Partial<Record<PartName, boolean>>>;
  detail?: { name: string; materialized?: Materialized | undefined; loading: boolean } | undefined;
  form?: FormState | undefined;
  why?: WhyState | undefined;
  prompt?: Prompt | undefined;
  /** Previews of the requests shown in the detail view or a confirmation, by previewKey. */
  previews: Record<string, RequestPreview | null>;
  message?: Message | undefined;
  namespaces?: string[] | undefined;
  services: Record<string, ServiceInfo[] | null>;
  /** Namespace filter from -n (undefined: all). */
  namespace?: string | undefined;
  defaultNamespace: string;
  now: number;
  width: number;
  height: number;
  connection: 'connecting' | 'live' | 'reconnecting';
  /** Effects the key map asked for, in order; the App performs them and acknowledges with 'effects-taken'. */
  effects: Effect[];
}

export function initialState(opts: { now: number; width: number; height: number; namespace?: string | undefined; defaultNamespace: string }): State {
  return {
    screen: 'hub',
    previous: 'hub',
    tab: 'all',
    requests: {},
    loaded: false,
    selected: 0,
    perms: {},
    previews: {},
    services: {},
    namespace: opts.namespace,
    defaultNamespace: opts.defaultNamespace,
    now: opts.now,
    width: opts.width,
    height: opts.height,
    connection: 'connecting',
    effects: [],
  };
}

export type UiAction =
  | { type: 'loaded'; items: AccessRequest[] }
  | { type: 'event'; kind: 'ADDED' | 'MODIFIED' | 'DELETED'; object: AccessRequest }
  | { type: 'connection'; state: State['connection'] }
  | { type: 'me'; me: Identity }
  | { type: 'perms'; name: string; perms: Partial<Record<PartName, boolean>> }
  | { type: 'tick'; now: number }
  | { type: 'resize'; width: number; height: number }
  | { type: 'tab'; tab: Tab }
  | { type: 'move'; delta: number }
  | { type: 'open-detail' }
  | { type: 'detail-loaded'; name: string; materialized: Materialized }
  | { type: 'back' }
  | { type: 'help' }
  | { type: 'open-form'; kind: FormKind }
  | { type: 'open-why' }
  | { type: 'why-asked'; query: WhyQuery }
  | { type: 'why-answered'; query: WhyQuery; result: WhyResult }
  | { type: 'why-failed'; query: WhyQuery; error: string }
  | { type: 'open-request-from-why' }
  | { type: 'form-focus'; delta: number }
  | { type: 'form-input'; text: string }
  | { type: 'form-erase' }
  | { type: 'form-choice'; delta: number }
  | { type: 'form-complete' }
  | { type: 'form-submitting' }
  | { type: 'form-failed'; error: string }
  | { type: 'created'; name: string }
  | { type: 'namespaces'; namespaces: string[] | null }
  | { type: 'services'; namespace: string; services: ServiceInfo[] | null }
  | { type: 'prompt'; prompt: Prompt }
  | { type: 'preview-loaded'; key: string; preview: RequestPreview | null }
  | { type: 'prompt-input'; text: string }
  | { type: 'prompt-erase' }
  | { type: 'prompt-cancel' }
  | { type: 'message'; message: Message | undefined }
  | { type: 'key'; key: KeyPress }
  | { type: 'effects-taken'; count: number };

export type Effect =
  | { type: 'approve'; name: string }
  | { type: 'decide'; name: string; action: 'deny' | 'abort' | 'revoke'; reason: string }
  | { type: 'extend'; name: string; duration: string; reason: string }
  | { type: 'create'; spec: AccessRequestSpec }
  | { type: 'why'; query: WhyQuery }
  | { type: 'quit' };

// -------------------------------------------------------------------------------------------------------------
// Derived views

export function visible(state: State): AccessRequest[] {
  const filter = {
    mine: state.tab === 'mine',
    pending: state.tab === 'pending',
    active: state.tab === 'active',
    namespace: state.namespace,
  };
  return Object.values(state.requests)
    .filter((r) => matches(r, filter, state.me))
    .sort(byNewest);
}

export function selectedRequest(state: State): AccessRequest | undefined {
  if (state.screen === 'detail' && state.detail) return state.requests[state.detail.name];
  return visible(state)[state.selected];
}

export function requestView(state: State, r: AccessRequest): RequestView {
  const perms = state.perms[r.metadata.name ?? ''] ?? {};
  return viewOf(r, state.me, new Map(Object.entries(perms) as [PartName, boolean][]));
}

/** The key of a request's preview: its name and version, so a changed request is previewed again. */
export function previewKey(r: AccessRequest): string {
  return `${r.metadata.name ?? ''}@${r.metadata.resourceVersion ?? ''}`;
}

/** The requests whose preview the screen needs (the detail view's, the confirmation's) and that is not loaded. */
export function previewsToLoad(state: State): AccessRequest[] {
  const names = [state.screen === 'detail' ? state.detail?.name : undefined, state.prompt?.name].filter((n): n is string => !!n);
  return [...new Set(names)].map((n) => state.requests[n]).filter((r): r is AccessRequest => !!r && !(previewKey(r) in state.previews));
}

/** The preview of a request as the screen shows it: undefined while it loads, null when it could not be read. */
export function previewOfRequest(state: State, r: AccessRequest): RequestPreview | null | undefined {
  return state.previews[previewKey(r)];
}

/** Who the user is to the rule book: identity and the answers about approving each part of `r`. */
function actorOf(state: State, r: AccessRequest) {
  const perms = state.perms[r.metadata.name ?? ''] ?? {};
  return { username: state.me?.username ?? '', groups: state.me?.groups ?? [], mayApprove: perms };
}

/** May the user extend the selected request now, and approve the part(s) of its waiting extension. */
export function extensionKeys(state: State): { extend: boolean; approveExtension: boolean } {
  const r = selectedRequest(state);
  if (!r) return { extend: false, approveExtension: false };
  const view = requestView(state, r);
  return { extend: view.mayExtend, approveExtension: view.approvableExtension.length > 0 };
}

/**
 * What is wrong with extending `name` by `duration`, naming the field, from the rule book (the webhook has the final
 * word): the duration's syntax, the parts' maxDuration, or why the request cannot be extended now.
 */
export function extendError(state: State, name: string, duration: string): string | undefined {
  const r = state.requests[name];
  if (!r) return 'this request no longer exists';
  if (duration.trim() === '') return 'Duration: type how much longer, e.g. 30m, 1h or 1h30m';
  const verdict = mayExtend(r, actorOf(state, r), duration.trim());
  if (verdict.allowed) return undefined;
  return verdict.field.endsWith('.duration') ? `Duration: ${verdict.message}` : verdict.message;
}

/** What extending `name` by `duration` would need, per part, as the confirmation shows it. */
export function extendOutcome(state: State, name: string, duration: string): string[] {
  const r = state.requests[name];
  const perms = state.perms[name] ?? {};
  return r ? proposedExtensionLines(r, duration, (p) => perms[p.part] === true) : [];
}

/** The keys the footer shows: the request actions only when the user may take them. */
export function availableActions(state: State): RequestAction[] {
  const r = selectedRequest(state);
  return r ? requestView(state, r).actions : [];
}

// -------------------------------------------------------------------------------------------------------------
// Forms

export function newForm(kind: FormKind, defaultNamespace: string): FormState {
  const common: FormField[] = [
    { key: 'ports', label: 'Ports', value: '', placeholder: 'e.g. 5432/TCP,53/UDP (empty: every port)' },
    { key: 'duration', label: 'Duration', value: '1h', placeholder: 'e.g. 30m, 2h, 1h30m' },
    { key: 'reason', label: 'Reason', value: '', placeholder: 'why the access is needed' },
  ];
  if (kind === 'why') {
    const fields: FormField[] = [
      { key: 'from', label: 'From', value: '', placeholder: 'NAMESPACE/SERVICE, or an address or CIDR outside the cluster' },
      { key: 'toNs', label: 'To namespace', value: defaultNamespace },
      { key: 'toSvc', label: 'To service', value: '' },
      { key: 'port', label: 'Port', value: '', placeholder: "PORT[/PROTOCOL] of the target Service, e.g. 5432 or 53/UDP" },
    ];
    return { kind, fields, focus: 0, submitted: false, busy: false };
  }
  const fields: FormField[] =
    kind === 'service'
      ? [
          { key: 'fromNs', label: 'From namespace', value: defaultNamespace },
          { key: 'fromSvc', label: 'From service', value: '' },
          { key: 'toNs', label: 'To namespace', value: defaultNamespace },
          { key: 'toSvc', label: 'To service', value: '' },
          ...common,
        ]
      : [
          { key: 'cidrs', label: 'CIDRs', value: '', placeholder: 'e.g. 203.0.113.7/32, 2001:db8::/64' },
          { key: 'direction', label: 'Direction', value: 'ingress', choices: ['ingress', 'egress', 'both'] },
          { key: 'ns', label: 'Namespace', value: defaultNamespace },
          { key: 'svc', label: 'Service', value: '' },
          ...common,
        ];
  return { kind, fields, focus: kind === 'service' ? 1 : 0, submitted: false, busy: false };
}

export function fieldValue(form: FormState, key: string): string {
  return form.fields.find((f) => f.key === key)?.value.trim() ?? '';
}

/** A request form filled with the request that would open a flow `why` found blocked, waiting for its reason. */
export function requestFormFor(o: OpeningRequest, defaultNamespace: string): FormState {
  const form = newForm(o.type === 'Service' ? 'service' : 'external', defaultNamespace);
  const values: Record<string, string> =
    o.type === 'Service'
      ? { fromNs: o.from.namespace, fromSvc: o.from.name, toNs: o.to.namespace, toSvc: o.to.name }
      : { cidrs: o.cidr, direction: o.direction, ns: o.to.namespace, svc: o.to.name };
  values.ports = `${o.port.port}/${o.port.protocol}`;
  const fields = form.fields.map((f) => (f.key in values ? { ...f, value: values[f.key] ?? f.value } : f));
  return { ...form, fields, focus: fields.findIndex((f) => f.key === 'reason') };
}

/**
 * The query the why form describes, parsed by the CLI's own parser (services/why.ts), or the problems per field key.
 * Each field is checked on its own (the others set to values that parse), so a mistake shows as it is typed; the
 * parser's messages name the CLI's flags, which the field's label replaces here.
 */
export function whyFormQuery(form: FormState, defaultNamespace: string): { query?: WhyQuery; errors: Record<string, string> } {
  const input = { from: fieldValue(form, 'from'), to: `${fieldValue(form, 'toNs')}/${fieldValue(form, 'toSvc')}`, port: fieldValue(form, 'port') };
  const valid = { from: 'default/a', to: 'default/a', port: '1' };
  const fields = { from: ['from'], to: ['toNs', 'toSvc'], port: ['port'] } as const;
  const errors: Record<string, string> = {};
  for (const [what, keys] of Object.entries(fields) as [keyof typeof fields, readonly string[]][]) {
    const empty = keys.find((k) => fieldValue(form, k) === '');
    if (empty) {
      errors[empty] = 'required';
      continue;
    }
    try {
      whyQuery({ ...valid, [what]: input[what] }, defaultNamespace);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      const hint = err.hint ? ` (${err.hint.replace(/--(from|to|port) /g, '')})` : '';
      errors[what === 'to' ? 'toSvc' : what] = err.message.replace(/^--(from|to|port) /, '') + hint;
    }
  }
  return Object.keys(errors).length > 0 ? { errors } : { query: whyQuery(input, defaultNamespace), errors };
}

/** Errors per field key of any form: the spec's for a request, the query's for why. */
export function formErrors(form: FormState, defaultNamespace: string): Record<string, string> {
  return form.kind === 'why' ? whyFormQuery(form, defaultNamespace).errors : formSpec(form).errors;
}

/** The spec the form describes, and errors per field key (from lib/domain/spec.ts, the webhook's own syntax rules). */
export function formSpec(form: FormState): { spec: AccessRequestSpec; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  let ports: AccessRequestSpec['ports'];
  try {
    ports = parsePorts(fieldValue(form, 'ports'));
  } catch (err) {
    errors.ports = (err as Error).message.replace(/^--ports item/, 'item');
  }
  const base = { ...(ports ? { ports } : {}), duration: fieldValue(form, 'duration'), reason: form.fields.find((f) => f.key === 'reason')?.value ?? '' };
  const spec: AccessRequestSpec =
    form.kind === 'service'
      ? {
          type: 'Service',
          source: { namespace: fieldValue(form, 'fromNs'), service: fieldValue(form, 'fromSvc') },
          target: { namespace: fieldValue(form, 'toNs'), service: fieldValue(form, 'toSvc') },
          ...base,
        }
      : {
          type: 'External',
          service: { namespace: fieldValue(form, 'ns'), name: fieldValue(form, 'svc') },
          cidrs: fieldValue(form, 'cidrs').split(/[\s,]+/).filter(Boolean),
          direction: fieldValue(form, 'direction') as 'ingress',
          ...base,
        };
  for (const e of specErrors(spec)) {
    const key = fieldForPath(form.kind, e.field);
    errors[key] ??= e.message;
  }
  return { spec, errors };
}

function fieldForPath(kind: FormKind, path: string): string {
  if (path.startsWith('spec.ports')) return 'ports';
  if (path.startsWith('spec.duration')) return 'duration';
  if (path.startsWith('spec.reason')) return 'reason';
  if (kind === 'service') {
    if (path === 'spec.source.namespace') return 'fromNs';
    if (path.startsWith('spec.source')) return 'fromSvc';
    if (path === 'spec.target.namespace') return 'toNs';
    return 'toSvc';
  }
  if (path.startsWith('spec.cidrs')) return 'cidrs';
  if (path.startsWith('spec.direction')) return 'direction';
  if (path === 'spec.service.namespace') return 'ns';
  return 'svc';
}

/** The namespace field a service field picks from. */
function namespaceFieldOf(key: string): string | undefined {
  return { fromSvc: 'fromNs', toSvc: 'toNs', svc: 'ns' }[key];
}

/** Type-ahead candidates for the focused field: namespaces, Services of the chosen namespace, the target's ports. */
export function suggestions(state: State, form: FormState): string[] {
  const field = form.fields[form.focus];
  if (!field) return [];
  const value = field.value.trim();
  let candidates: string[] = [];
  if (field.key === 'fromNs' || field.key === 'toNs' || field.key === 'ns') candidates = state.namespaces ?? [];
  const nsKey = namespaceFieldOf(field.key);
  if (nsKey) candidates = (state.services[fieldValue(form, nsKey)] ?? []).map((s) => s.name);
  if (field.key === 'ports') {
    const ports = targetPorts(state, form);
    return ports.length > 0 && value === '' ? [ports.join(',')] : [];
  }
  // why's From is NAMESPACE/SERVICE in one field: the namespace first, then the Services of the one typed.
  if (field.key === 'from') {
    const ns = refNamespace(value);
    candidates = ns === undefined ? (state.namespaces ?? []).map((n) => `${n}/`) : (state.services[ns] ?? []).map((s) => `${ns}/${s.name}`);
  }
  if (field.key === 'port') candidates = targetPorts(state, form);
  return candidates.filter((c) => c.startsWith(value) && c !== value).slice(0, 6);
}

/** The namespace of a NAMESPACE/SERVICE being typed, once the slash is. */
function refNamespace(value: string): string | undefined {
  const slash = value.indexOf('/');
  return slash < 0 ? undefined : value.slice(0, slash);
}

/** The ports of the form's target Service, when known: offered as the default of the Ports field. */
export function targetPorts(state: State, form: FormState): string[] {
  const ns = fieldValue(form, form.kind === 'external' ? 'ns' : 'toNs');
  const name = fieldValue(form, form.kind === 'external' ? 'svc' : 'toSvc');
  return state.services[ns]?.find((s) => s.name === name)?.ports ?? [];
}

/** Soft warnings from what the cluster showed us (a name not found); the webhook has the final word. */
export function fieldWarnings(state: State, form: FormState): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of form.fields) {
    const value = f.value.trim();
    if (!value) continue;
    if ((f.key === 'fromNs' || f.key === 'toNs' || f.key === 'ns') && state.namespaces && state.namespaces.length > 0 && !state.namespaces.includes(value)) {
      out[f.key] = `no namespace ${value} that you can see`;
    }
    const nsKey = namespaceFieldOf(f.key);
    const known = nsKey ? state.services[fieldValue(form, nsKey)] : undefined;
    if (nsKey && known && !known.some((svc) => svc.name === value)) out[f.key] = `no Service ${value} in ${fieldValue(form, nsKey)}`;
  }
  return out;
}

/** Namespaces whose Services the form needs and that are not loaded yet (the App loads them). */
export function servicesToLoad(state: State): string[] {
  const form = state.form;
  if (!form) return [];
  const keys = form.kind === 'service' ? ['fromNs', 'toNs'] : form.kind === 'why' ? ['toNs'] : ['ns'];
  const namespaces = keys.map((k) => fieldValue(form, k));
  const fromNs = form.kind === 'why' ? refNamespace(fieldValue(form, 'from')) : undefined;
  if (fromNs !== undefined) namespaces.push(fromNs);
  return [...new Set(namespaces)].filter((ns) => isDns1123Label(ns) && !(ns in state.services));
}

function updateForm(state: State, f: (form: FormState) => FormState): State {
  return state.form ? { ...state, form: f(state.form) } : state;
}

function setFocused(form: FormState, f: (field: FormField) => FormField): FormState {
  const field = form.fields[form.focus];
  if (!field) return form;
  const fields = form.fields.slice();
  fields[form.focus] = f(field);
  return { ...form, fields };
}

// -------------------------------------------------------------------------------------------------------------
// Reducer

/**
 * After the list changed under the user (a watch event, a relist): keeps the selection on the request it was on,
 * wherever that request now sorts, so a key pressed just as a new request arrives acts on the one the user saw.
 * If that request left the view, the selection stays at its place.
 */
function followSelection(before: State, after: State): State {
  const name = visible(before)[before.selected]?.metadata.name;
  if (name !== undefined) {
    const i = visible(after).findIndex((r) => r.metadata.name === name);
    if (i >= 0) return i === after.selected ? after : { ...after, selected: i };
  }
  return clampSelection(after);
}

function clampSelection(state: State): State {
  const n = visible(state).length;
  const selected = Math.max(0, Math.min(state.selected, n - 1));
  return selected === state.selected ? state : { ...state, selected };
}

export function reduce(state: State, action: UiAction): State {
  switch (action.type) {
    case 'loaded': {
      const requests: Record<string, AccessRequest> = {};
      for (const r of action.items) if (r.metadata.name) requests[r.metadata.name] = r;
      const next = { ...state, requests, loaded: true, connection: 'live' as const };
      // Open on the tab with something to do: pending requests if there are any.
      return state.loaded ? followSelection(state, next) : clampSelection({ ...next, tab: visible({ ...next, tab: 'pending' }).length > 0 ? 'pending' : 'all' });
    }
    case 'event': {
      const name = action.object.metadata.name;
      if (!name) return state;
      const requests = { ...state.requests };
      if (action.kind === 'DELETED') delete requests[name];
      else requests[name] = action.object;
      return followSelection(state, { ...state, requests });
    }
    case 'connection':
      return { ...state, connection: action.state };
    case 'me':
      return followSelection(state, { ...state, me: action.me });
    case 'perms':
      return { ...state, perms: { ...state.perms, [action.name]: action.perms } };
    case 'tick':
      return { ...state, now: action.now };
    case 'resize':
      return { ...state, width: action.width, height: action.height };
    case 'tab':
      return { ...state, tab: action.tab, selected: 0, screen: 'hub' };
    case 'move':
      return clampSelection({ ...state, selected: state.selected + action.delta });
    case 'open-detail': {
      const r = visible(state)[state.selected];
      if (!r?.metadata.name) return state;
      return { ...state, screen: 'detail', previous: 'hub', detail: { name: r.metadata.name, loading: true }, message: undefined };
    }
    case 'detail-loaded':
      return state.detail?.name === action.name ? { ...state, detail: { name: action.name, materialized: action.materialized, loading: false } } : state;
    case 'back':
      if (state.screen === 'help') return { ...state, screen: state.previous };
      // The why query (not its answer) is kept, so that w asks it again.
      return { ...state, screen: 'hub', detail: undefined, form: undefined, prompt: undefined, why: state.why ? { form: state.why.form, query: state.why.query } : undefined };
    case 'help':
      return state.screen === 'help' ? { ...state, screen: state.previous } : { ...state, screen: 'help', previous: state.screen };
    case 'open-form':
      if (action.kind === 'why') return reduce(state, { type: 'open-why' });
      return { ...state, screen: action.kind, form: newForm(action.kind, state.namespace ?? state.defaultNamespace), message: undefined };
    case 'open-why':
      // The last query stays filled in: asking again after a change is one Enter away.
      return { ...state, screen: 'why', form: state.why ? { ...state.why.form, busy: false } : newForm('why', state.namespace ?? state.defaultNamespace), message: undefined };
    case 'why-asked':
      return state.form?.kind === 'why' ? { ...state, screen: 'why-result', why: { form: state.form, query: action.query }, form: undefined, message: undefined } : state;
    case 'why-answered':
      return state.why?.query === action.query ? { ...state, why: { ...state.why, result: action.result } } : state;
    case 'why-failed':
      return state.why?.query === action.query ? { ...state, why: { ...state.why, error: action.error } } : state;
    case 'open-request-from-why': {
      if (!state.why?.result?.open) return state;
      const form = requestFormFor(openingRequest(state.why.query), state.namespace ?? state.defaultNamespace);
      return { ...state, screen: form.kind, form, message: undefined };
    }
    case 'form-focus':
      return updateForm(state, (form) => ({ ...form, focus: Math.max(0, Math.min(form.fields.length, form.focus + action.delta)) }));
    case 'form-input':
      return updateForm(state, (form) =>
        setFocused(form, (field) => {
          if (field.choices) {
            const hit = field.choices.find((c) => c.startsWith(action.text.toLowerCase()));
            return hit ? { ...field, value: hit } : field;
          }
          return { ...field, value: (field.value + action.text).slice(0, field.key === 'reason' ? 512 : 256) };
        }),
      );
    case 'form-erase':
      return updateForm(state, (form) => setFocused(form, (field) => (field.choices ? field : { ...field, value: [...field.value].slice(0, -1).join('') })));
    case 'form-choice':
      return updateForm(state, (form) =>
        setFocused(form, (field) => {
          if (!field.choices) return field;
          const i = field.choices.indexOf(field.value);
          const n = field.choices.length;
          return { ...field, value: field.choices[(((i + action.delta) % n) + n) % n] ?? field.value };
        }),
      );
    case 'form-complete': {
      if (!state.form) return state;
      const first = suggestions(state, state.form)[0];
      if (first === undefined) return state;
      return updateForm(state, (form) => setFocused(form, (field) => ({ ...field, value: first })));
    }
    case 'form-submitting':
      return updateForm({ ...state, message: undefined }, (form) => ({ ...form, submitted: true, busy: true }));
    case 'form-failed':
      return updateForm({ ...state, message: { kind: 'error', text: action.error } }, (form) => ({ ...form, busy: false }));
    case 'created':
      return { ...state, screen: 'hub', form: undefined, tab: 'mine', selected: 0, message: { kind: 'info', text: `created accessrequest ${action.name}` } };
    case 'namespaces':
      return { ...state, namespaces: action.namespaces ?? [] };
    case 'services':
      return { ...state, services: { ...state.services, [action.namespace]: action.services } };
    case 'prompt':
      return { ...state, prompt: action.prompt, message: undefined };
    case 'prompt-input':
      if (state.prompt?.editing === 'duration') return { ...state, prompt: { ...state.prompt, duration: [...(state.prompt.duration ?? ''), ...action.text].slice(0, 32).join('') } };
      return state.prompt ? { ...state, prompt: { ...state.prompt, reason: [...state.prompt.reason, ...action.text].slice(0, REASON_MAX_LENGTH).join('') } } : state;
    case 'prompt-erase':
      if (state.prompt?.editing === 'duration') return { ...state, prompt: { ...state.prompt, duration: [...(state.prompt.duration ?? '')].slice(0, -1).join('') } };
      return state.prompt ? { ...state, prompt: { ...state.prompt, reason: [...state.prompt.reason].slice(0, -1).join('') } } : state;
    case 'prompt-cancel':
      return { ...state, prompt: undefined };
    case 'preview-loaded': {
      // Only the previews still needed are kept: one per request on screen.
      const needed = new Set(
        [state.detail?.name, state.prompt?.name].flatMap((n) => {
          const r = n ? state.requests[n] : undefined;
          return r ? [previewKey(r)] : [];
        }),
      );
      const previews: Record<string, RequestPreview | null> = {};
      for (const [k, v] of Object.entries(state.previews)) if (needed.has(k) && k !== action.key) previews[k] = v;
      if (needed.has(action.key)) previews[action.key] = action.preview;
      return { ...state, previews };
    }
    case 'message':
      return { ...state, message: action.message };
    case 'key': {
      // The key map runs inside the reducer so that fast typing (keys arriving before a re-render) is always
      // judged against the state the previous keys produced.
      const result = keymap(state, action.key);
      const next = result.actions.reduce(reduce, state);
      return result.effect ? { ...next, effects: [...next.effects, result.effect] } : next;
    }
    case 'effects-taken':
      return { ...state, effects: state.effects.slice(action.count) };
  }
}

// -------------------------------------------------------------------------------------------------------------
// Key map

export interface KeyPress {
  input: string;
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  return?: boolean;
  escape?: boolean;
  tab?: boolean;
  shift?: boolean;
  ctrl?: boolean;
  backspace?: boolean;
  delete?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  meta?: boolean;
}

export interface KeyResult {
  actions: UiAction[];
  effect?: Effect;
}

/**
 * A key press as edits: text to insert and erasures, in order. Pasted text and fast typing arrive as one input
 * of several characters, and so do several Backspaces (`\x7f\x7f`), which Ink reports as plain input.
 * Other control characters are dropped: nothing typed can inject a terminal escape.
 */
function edits(key: KeyPress, input: (text: string) => UiAction, erase: UiAction): UiAction[] {
  if (key.ctrl || key.escape || key.return || key.tab || key.meta) return [];
  if (key.backspace || key.delete) return [erase];
  const out: UiAction[] = [];
  let text = '';
  for (const ch of key.input) {
    if (ch === '\x7f' || ch === '\b') {
      if (text) out.push(input(text));
      text = '';
      out.push(erase);
      // eslint-disable-next-line no-control-regex
    } else if (!/[\u0000-\u001f\u007f-\u009f]/.test(ch)) text += ch;
  }
  if (text) out.push(input(text));
  return out;
}

export function keymap(state: State, key: KeyPress): KeyResult {
  if (state.prompt) return promptKeys(state, state.prompt, key);
  if (state.form && (state.screen === 'service' || state.screen === 'external' || state.screen === 'why')) return formKeys(state, state.form, key);
  if (state.screen === 'help') return { actions: [{ type: 'back' }] };
  const input = key.input;
  if (key.escape) return { actions: [state.screen === 'hub' ? { type: 'message', message: undefined } : { type: 'back' }] };
  if (input === 'q') return { actions: [], effect: { type: 'quit' } };
  if (input === '?') return { actions: [{ type: 'help' }] };
  if (input === 's') return { actions: [{ type: 'open-form', kind: 'service' }] };
  if (input === 'e') return { actions: [{ type: 'open-form', kind: 'external' }] };
  if (input === 'w') return { actions: [{ type: 'open-why' }] };
  if (state.screen === 'why-result') {
    // The request that would open a blocked flow, in its form: what `kubectl netwatch why` prints as a command.
    if (input === 'n' && state.why?.result?.open) return { actions: [{ type: 'open-request-from-why' }] };
    return { actions: [] };
  }
  const tabIndex = ['1', '2', '3', '4'].indexOf(input);
  if (tabIndex >= 0) return { actions: [{ type: 'tab', tab: TABS[tabIndex] ?? 'all' }] };
  if (key.tab && state.screen === 'hub') {
    const i = TABS.indexOf(state.tab);
    return { actions: [{ type: 'tab', tab: TABS[(i + (key.shift ? TABS.length - 1 : 1)) % TABS.length] ?? 'all' }] };
  }
  if (state.screen === 'hub') {
    if (key.upArrow || input === 'k') return { actions: [{ type: 'move', delta: -1 }] };
    if (key.downArrow || input === 'j') return { actions: [{ type: 'move', delta: 1 }] };
    if (key.pageUp) return { actions: [{ type: 'move', delta: -10 }] };
    if (key.pageDown) return { actions: [{ type: 'move', delta: 10 }] };
    if (key.return) return { actions: [{ type: 'open-detail' }] };
  }
  const r = selectedRequest(state);
  const name = r?.metadata.name;
  if (!r || !name) return { actions: [] };
  const view = requestView(state, r);
  const allowed = view.actions;
  if (input === 't' && view.mayExtend) return { actions: [{ type: 'prompt', prompt: { action: 'extend', name, reason: '', required: false, duration: '', editing: 'duration' } }] };
  // On an Active request, approving approves its waiting extension (the service's approve does the same).
  if (input === 'a' && (allowed.includes('approve') || view.approvableExtension.length > 0)) return { actions: [{ type: 'prompt', prompt: { action: 'approve', name, reason: '', required: false } }] };
  if (input === 'd' && allowed.includes('deny')) return { actions: [{ type: 'prompt', prompt: { action: 'deny', name, reason: '', required: true } }] };
  if (input === 'x' && allowed.includes('abort')) return { actions: [{ type: 'prompt', prompt: { action: 'abort', name, reason: '', required: false } }] };
  if (input === 'r' && allowed.includes('revoke')) return { actions: [{ type: 'prompt', prompt: { action: 'revoke', name, reason: '', required: false } }] };
  return { actions: [] };
}

function promptKeys(state: State, prompt: Prompt, key: KeyPress): KeyResult {
  if (key.escape) return { actions: [{ type: 'prompt-cancel' }] };
  if (key.return && prompt.action === 'extend') {
    const duration = (prompt.duration ?? '').trim();
    if (prompt.editing) {
      const error = extendError(state, prompt.name, duration);
      if (error) return { actions: [{ type: 'message', message: { kind: 'error', text: error } }] };
      return { actions: [{ type: 'prompt', prompt: { action: 'extend', name: prompt.name, reason: '', required: false, duration } }] };
    }
    return { actions: [{ type: 'prompt-cancel' }], effect: { type: 'extend', name: prompt.name, duration, reason: prompt.reason.trim() } };
  }
  if (key.return) {
    if (prompt.action === 'approve') return { actions: [{ type: 'prompt-cancel' }], effect: { type: 'approve', name: prompt.name } };
    if (prompt.required && prompt.reason.trim() === '') return { actions: [{ type: 'message', message: { kind: 'error', text: 'a reason is required to deny' } }] };
    if (prompt.action === 'extend') return { actions: [] };
    return { actions: [{ type: 'prompt-cancel' }], effect: { type: 'decide', name: prompt.name, action: prompt.action, reason: prompt.reason.trim() } };
  }
  // Approving takes no reason: typing does nothing (a stray `a` must not approve twice, nor anything else).
  if (prompt.action === 'approve') return { actions: [] };
  return { actions: edits(key, (text) => ({ type: 'prompt-input', text }), { type: 'prompt-erase' }) };
}

function formKeys(state: State, form: FormState, key: KeyPress): KeyResult {
  if (key.escape) return { actions: [{ type: 'back' }] };
  if (form.busy) return { actions: [] };
  const onSubmit = form.focus === form.fields.length;
  const field = form.fields[form.focus];
  if (key.upArrow || (key.tab && key.shift)) return { actions: [{ type: 'form-focus', delta: -1 }] };
  if (key.downArrow) return { actions: [{ type: 'form-focus', delta: 1 }] };
  if (key.tab) {
    // Tab completes the type-ahead suggestion when there is one, else moves on.
    return suggestions(state, form).length > 0 ? { actions: [{ type: 'form-complete' }] } : { actions: [{ type: 'form-focus', delta: 1 }] };
  }
  if (key.return) {
    if (!onSubmit) return { actions: [{ type: 'form-focus', delta: 1 }] };
    if (form.kind === 'why') {
      const { query, errors } = whyFormQuery(form, state.namespace ?? state.defaultNamespace);
      if (!query) return { actions: [{ type: 'form-submitting' }, { type: 'form-failed', error: firstProblem(form, errors) }] };
      return { actions: [{ type: 'why-asked', query }], effect: { type: 'why', query } };
    }
    const { spec, errors } = formSpec(form);
    if (Object.keys(errors).length > 0) return { actions: [{ type: 'message', message: { kind: 'error', text: firstProblem(form, errors) } }] };
    return { actions: [{ type: 'form-submitting' }], effect: { type: 'create', spec } };
  }
  if (field?.choices && (key.leftArrow || key.rightArrow || key.input === ' ')) return { actions: [{ type: 'form-choice', delta: key.leftArrow ? -1 : 1 }] };
  if (onSubmit) return { actions: [] };
  return { actions: edits(key, (text) => ({ type: 'form-input', text }), { type: 'form-erase' }) };
}

/** `Label: message` of the form's first field with a problem. */
function firstProblem(form: FormState, errors: Record<string, string>): string {
  const field = form.fields.find((f) => f.key in errors);
  return field ? `${field.label}: ${errors[field.key] ?? ''}` : '';
}

/** Phase names with the colour the TUI shows them in. */
export function phaseColor(r: AccessRequest): string {
  switch (phase(r)) {
    case 'Active':
      return 'green';
    case 'Pending':
    case 'PartiallyApproved':
      return 'yellow';
    case 'Denied':
    case 'Failed':
      return 'red';
    case 'Aborted':
    case 'Revoked':
    case 'Expired':
      return 'gray';
  }
}
