// The interactive view: Ink components over the pure state of state.ts. The App owns the side effects: the
// initial list, the watch (live updates), permission checks, Service lookups for the pickers, and the writes
// the key map asks for. Every string from the cluster is rendered through `cell`/`inert`.
import { useEffect, useReducer, useRef, type ReactElement } from 'react';
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { explain, UserError } from '../errors.ts';
import { inert } from '../../../lib/text/inert.ts';
import { cell, countdown, age, fromText, portsText, toText } from '../services/format.ts';
import type { ClusterPort } from '../services/port.ts';
import { KubeError } from '../../../lib/kube/errors.ts';
import {
  PermissionCache,
  approve,
  checkRequest,
  decide,
  extend,
  materializedOf,
  newRequest,
  phase,
} from '../services/requests.ts';
import {
  TABS,
  availableActions,
  extendOutcome,
  extensionKeys,
  fieldWarnings,
  formErrors,
  initialState,
  phaseColor,
  reduce,
  requestView,
  selectedRequest,
  servicesToLoad,
  previewKey,
  previewOfRequest,
  previewsToLoad,
  suggestions,
  targetPorts,
  visible,
  type Effect,
  type FormState,
  type Prompt,
  type State,
} from './state.ts';
import type { AccessRequest } from '../../../lib/api/accessrequest.ts';
import { isMaterialized, previewLines, previewSummary } from '../../../lib/domain/preview.ts';
import { previewFor } from '../services/preview.ts';
import { pendingExtension } from '../../../lib/domain/actions.ts';
import { extensionTexts } from '../../../lib/domain/extension-text.ts';
import { renderWhy, why, type WhyResult } from '../services/why.ts';

export interface AppProps {
  port: ClusterPort;
  /** -n: only requests touching this namespace, and the forms' default namespace. */
  namespace?: string | undefined;
  now?: () => number;
  /** Countdown refresh period (ms); 0 disables the timer (tests). */
  tickMs?: number;
  /** Delay before re-watching after the watch dropped (ms). */
  rewatchMs?: number;
  /** The cluster's own ranges (--cluster-cidr): the preview classes a requested CIDR inside one as `cluster`. */
  clusterCidrs?: readonly string[] | undefined;
}

function errorText(err: unknown): string {
  const e = explain(err);
  if (e instanceof UserError) return `${e.message}${e.hint ? ` (hint: ${e.hint})` : ''}`;
  return e instanceof Error ? e.message : String(e);
}

export function App({ port, namespace, now = Date.now, tickMs = 1000, rewatchMs = 1000, clusterCidrs }: AppProps): ReactElement {
  const { stdout } = useStdout();
  const { exit } = useApp();
  const [state, dispatch] = useReducer(
    reduce,
    undefined,
    (): State => initialState({ now: now(), width: stdout.columns || 100, height: stdout.rows || 30, namespace, defaultNamespace: port.info.namespace }),
  );
  const perms = useRef(new PermissionCache(port));
  const stateRef = useRef(state);
  stateRef.current = state;

  const checkPerms = (r: AccessRequest) => {
    const name = r.metadata.name;
    if (!name) return;
    perms.current.forRequest(r).then(
      (m) => dispatch({ type: 'perms', name, perms: Object.fromEntries(m) }),
      () => undefined,
    );
  };

  // Initial list, then a watch from its resourceVersion; on a dropped watch, list again and re-watch.
  useEffect(() => {
    let stopped = false;
    let watch: { stop(): void } | undefined;
    let timer: NodeJS.Timeout | undefined;
    port.whoAmI().then(
      (me) => dispatch({ type: 'me', me }),
      () => undefined,
    );
    const start = async (): Promise<void> => {
      try {
        const list = await port.listRequests();
        if (stopped) return;
        dispatch({ type: 'loaded', items: list.items });
        list.items.forEach(checkPerms);
        watch = port.watchRequests(
          list.resourceVersion,
          (ev) => {
            dispatch({ type: 'event', kind: ev.type, object: ev.object });
            if (ev.type !== 'DELETED') checkPerms(ev.object);
          },
          () => {
            if (stopped) return;
            dispatch({ type: 'connection', state: 'reconnecting' });
            timer = setTimeout(() => void start(), rewatchMs);
          },
        );
      } catch (err) {
        if (stopped) return;
        dispatch({ type: 'connection', state: 'reconnecting' });
        dispatch({ type: 'message', message: { kind: 'error', text: errorText(err) } });
        timer = setTimeout(() => void start(), Math.max(rewatchMs, 2000));
      }
    };
    void start();
    return () => {
      stopped = true;
      watch?.stop();
      if (timer) clearTimeout(timer);
    };
  }, [port]);

  // Live countdown to expiry.
  useEffect(() => {
    if (!tickMs) return;
    const t = setInterval(() => dispatch({ type: 'tick', now: now() }), tickMs);
    return () => clearInterval(t);
  }, [tickMs, now]);

  // Graceful resize: re-layout to the new width and height.
  useEffect(() => {
    const onResize = () => dispatch({ type: 'resize', width: stdout.columns || 100, height: stdout.rows || 30 });
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);

  // The detail view's objects: clones, maxtac objects, NetworkPolicies. Reloaded when the request changes.
  const detailName = state.detail?.name;
  const detailVersion = detailName ? state.requests[detailName]?.metadata.resourceVersion : undefined;
  useEffect(() => {
    if (!detailName) return;
    const r = stateRef.current.requests[detailName];
    if (!r) return;
    let live = true;
    materializedOf(port, r).then(
      (m) => live && dispatch({ type: 'detail-loaded', name: detailName, materialized: m }),
      (err: unknown) => live && dispatch({ type: 'message', message: { kind: 'error', text: errorText(err) } }),
    );
    return () => {
      live = false;
    };
  }, [port, detailName, detailVersion]);

  // Previews of the request in the detail view or a confirmation, once per version of it.
  const previewsWanted = previewsToLoad(state);
  const previewsKey = previewsWanted.map(previewKey).join(',');
  useEffect(() => {
    for (const r of previewsWanted) {
      const key = previewKey(r);
      previewFor(port, r, { clusterCidrs }).then(
        (preview) => dispatch({ type: 'preview-loaded', key, preview }),
        () => dispatch({ type: 'preview-loaded', key, preview: null }),
      );
    }
    // The key lists what is wanted; the requests themselves are read with it.
  }, [port, previewsKey]);

  // Pickers: namespaces once a form opens, Services of each namespace the form names.
  const formOpen = !!state.form;
  useEffect(() => {
    if (!formOpen || stateRef.current.namespaces) return;
    port.listNamespaces().then(
      (ns) => dispatch({ type: 'namespaces', namespaces: ns }),
      () => dispatch({ type: 'namespaces', namespaces: null }),
    );
  }, [port, formOpen]);
  const toLoad = servicesToLoad(state).join(',');
  useEffect(() => {
    for (const ns of toLoad ? toLoad.split(',') : []) {
      dispatch({ type: 'services', namespace: ns, services: [] });
      port.listServices(ns).then(
        (svcs) =>
          dispatch({
            type: 'services',
            namespace: ns,
            services: svcs.map((s) => ({ name: s.metadata.name ?? '', ports: (s.spec?.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`) })),
          }),
        (err: unknown) => dispatch({ type: 'services', namespace: ns, services: err instanceof KubeError && err.status !== 0 ? null : [] }),
      );
    }
  }, [port, toLoad]);

  const perform = async (effect: Effect): Promise<void> => {
    switch (effect.type) {
      case 'quit':
        exit();
        return;
      case 'approve': {
        const { approved, extension } = await approve(port, effect.name);
        const what = extension ? `extension ${extension.index + 1} (+${extension.extension.duration}) of` : 'of';
        dispatch({ type: 'message', message: { kind: 'info', text: `approved ${approved.join(' and ')} ${what} ${effect.name}` } });
        return;
      }
      case 'extend': {
        const { extension, approved } = await extend(port, effect.name, effect.duration, effect.reason || undefined);
        const yours = approved.length > 0 ? `; you approved the ${approved.join(' and ')} part` : '';
        const outcome = extension.granted
          ? `extended ${effect.name} by ${effect.duration} (the expiry moves shortly)`
          : `extension ${extension.index + 1} of ${effect.name} (+${effect.duration}) waits for the ${extension.waitingFor.join(' and ')} part${extension.waitingFor.length === 1 ? '' : 's'}${yours}`;
        dispatch({ type: 'message', message: { kind: 'info', text: outcome } });
        return;
      }
      case 'decide': {
        const type = ({ deny: 'Denied', abort: 'Aborted', revoke: 'Revoked' } as const)[effect.action];
        await decide(port, effect.name, type, effect.reason || undefined);
        dispatch({ type: 'message', message: { kind: 'info', text: `${type.toLowerCase()} ${effect.name}` } });
        return;
      }
      case 'why': {
        try {
          dispatch({ type: 'why-answered', query: effect.query, result: await why(port, effect.query) });
        } catch (err) {
          dispatch({ type: 'why-failed', query: effect.query, error: errorText(err) });
        }
        return;
      }
      case 'create': {
        try {
          await checkRequest(port, effect.spec);
          const created = await port.createRequest(newRequest(effect.spec)).catch((err: unknown) => {
            throw explain(err, 'creating the access request');
          });
          dispatch({ type: 'created', name: created.metadata.name ?? '' });
        } catch (err) {
          dispatch({ type: 'form-failed', error: errorText(err) });
        }
        return;
      }
    }
  };

  useInput((input, key) => dispatch({ type: 'key', key: { ...key, input } }));

  // Perform what the key map queued, in order, once each.
  const queued = state.effects;
  useEffect(() => {
    if (queued.length === 0) return;
    dispatch({ type: 'effects-taken', count: queued.length });
    for (const effect of queued) {
      perform(effect).catch((err: unknown) => dispatch({ type: 'message', message: { kind: 'error', text: errorText(err) } }));
    }
    // perform is recreated each render; the queue is what matters.
  }, [queued]);

  return <Screen state={state} port={port} />;
}

// -------------------------------------------------------------------------------------------------------------
// Components

export function Screen({ state, port }: { state: State; port: Pick<ClusterPort, 'info'> }): ReactElement {
  const width = Math.max(40, state.width);
  return (
    <Box flexDirection="column" width={width}>
      <Header state={state} port={port} />
      {state.screen === 'hub' && <Hub state={state} />}
      {state.screen === 'detail' && <Detail state={state} />}
      {(state.screen === 'service' || state.screen === 'external' || state.screen === 'why') && state.form && <Form state={state} form={state.form} />}
      {state.screen === 'why-result' && <WhyAnswer state={state} />}
      {state.screen === 'help' && <Help />}
      {state.prompt && <PromptLine state={state} />}
      {state.message && (
        <Text color={state.message.kind === 'error' ? 'red' : 'green'} wrap="truncate-end">
          {state.message.kind === 'error' ? '✘ ' : '✔ '}
          {cell(state.message.text, width * 2)}
        </Text>
      )}
      <Footer state={state} />
    </Box>
  );
}

function Header({ state, port }: { state: State; port: Pick<ClusterPort, 'info'> }): ReactElement {
  const who = state.me ? inert(state.me.username) : '…';
  const conn = state.connection === 'live' ? '● live' : state.connection === 'connecting' ? '○ connecting' : '○ reconnecting';
  return (
    <Box justifyContent="space-between">
      <Text bold wrap="truncate-end">
        netwatch <Text dimColor>{cell(port.info.context, 40)} · {who}{state.namespace ? ` · -n ${inert(state.namespace)}` : ''}</Text>
      </Text>
      <Text color={state.connection === 'live' ? 'green' : 'yellow'}>{conn}</Text>
    </Box>
  );
}

function Tabs({ state }: { state: State }): ReactElement {
  const labels: Record<string, string> = { pending: 'Pending', active: 'Active', mine: 'Mine', all: 'All' };
  return (
    <Box gap={2}>
      {TABS.map((t, i) => {
        const n = visible({ ...state, tab: t }).length;
        return (
          <Text key={t} inverse={state.tab === t} bold={state.tab === t}>
            {` ${i + 1} ${labels[t]} (${n}) `}
          </Text>
        );
      })}
    </Box>
  );
}

interface Column {
  title: string;
  width: number;
  value: (r: AccessRequest, now: number) => string;
}

function columnsFor(width: number): Column[] {
  const cols: Column[] = [
    { title: 'NAME', width: 24, value: (r) => r.metadata.name ?? '' },
    { title: 'FROM', width: 26, value: (r) => r.status?.from ?? fromText(r) },
    { title: 'TO', width: 26, value: (r) => r.status?.to ?? toText(r) },
    { title: 'PORTS', width: 14, value: (r) => r.status?.portsSummary ?? portsText(r.spec.ports) },
    { title: 'PHASE', width: 17, value: (r) => phase(r) },
    { title: 'EXPIRES IN', width: 11, value: (r, now) => (phase(r) === 'Active' ? countdown(r.status?.expiresAt, now) : '-') },
    { title: 'REQUESTER', width: 14, value: (r) => r.spec.requester?.username ?? '?' },
    { title: 'AGE', width: 6, value: (r, now) => age(r.metadata.creationTimestamp, now) },
  ];
  // Narrow terminals drop the least important columns first.
  // Then FROM and TO shrink; the countdown never goes.
  const order = ['AGE', 'REQUESTER', 'PORTS'];
  let total = cols.reduce((s, c) => s + c.width + 1, 2);
  for (const title of order) {
    if (total <= width) break;
    const i = cols.findIndex((c) => c.title === title);
    const [removed] = cols.splice(i, 1);
    total -= (removed?.width ?? 0) + 1;
  }
  for (const c of cols) {
    if (total <= width) break;
    if (c.title !== 'FROM' && c.title !== 'TO' && c.title !== 'NAME') continue;
    const cut = Math.min(c.width - 12, Math.ceil((total - width) / 2));
    c.width -= cut;
    total -= cut;
  }
  return cols;
}

function pad(text: string, width: number): string {
  const t = cell(text, width);
  return t + ' '.repeat(Math.max(0, width - [...t].length));
}

function Hub({ state }: { state: State }): ReactElement {
  const items = visible(state);
  const cols = columnsFor(state.width);
  // Rows that fit: the rest of the screen holds tabs, header, the parts box and the footer.
  const room = Math.max(3, state.height - 14);
  const start = Math.max(0, Math.min(state.selected - Math.floor(room / 2), items.length - room));
  const shown = items.slice(start, start + room);
  const selected = selectedRequest(state);
  return (
    <Box flexDirection="column">
      <Tabs state={state} />
      <Text dimColor wrap="truncate-end">
        {'  ' + cols.map((c) => pad(c.title, c.width)).join(' ')}
      </Text>
      {!state.loaded && <Text dimColor>  loading…</Text>}
      {state.loaded && items.length === 0 && <Text dimColor>  no requests here — press s for a service request, e for an external one</Text>}
      {shown.map((r, i) => {
        const isSel = start + i === state.selected;
        return (
          <Text key={r.metadata.name} inverse={isSel} wrap="truncate-end">
            {isSel ? '› ' : '  '}
            {cols.map((c) =>
              c.title === 'PHASE' ? (
                <Text key={c.title} color={phaseColor(r)}>
                  {pad(c.value(r, state.now), c.width)}{' '}
                </Text>
              ) : (
                pad(c.value(r, state.now), c.width) + ' '
              ),
            )}
          </Text>
        );
      })}
      {items.length > shown.length && <Text dimColor>  … {items.length - shown.length} more (↑/↓)</Text>}
      {selected && <PartsBox state={state} request={selected} />}
    </Box>
  );
}

function PartsBox({ state, request }: { state: State; request: AccessRequest }): ReactElement {
  const view = requestView(state, request);
  const known = !!state.perms[request.metadata.name ?? ''];
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text wrap="truncate-end">
        <Text bold>{cell(request.metadata.name, 63)}</Text> <Text dimColor>reason:</Text> {cell(request.spec.reason, Math.max(20, state.width - 30))}
      </Text>
      {view.parts.map((p) => (
        <Box key={p.part} flexDirection="column">
          <Text wrap="truncate-end">
            {p.approved ? <Text color="green">● approved</Text> : <Text color="yellow">○ pending </Text>} {p.part} part in {cell(p.namespace, 63)}
            {p.approved ? <Text dimColor> by {cell(p.approvedBy ?? '?', 40)}</Text> : null}
            {'  '}
            {!known ? <Text dimColor>checking your permission…</Text> : p.youMayApprove ? <Text color="green">✔ you may approve</Text> : <Text color="red">✘ you may not approve</Text>}
            <Text dimColor> — needs: {cell(p.needs, 200)}</Text>
          </Text>
          {p.policy ? (
            // Wrapped, not cut: how many approvals are missing comes last and must show on a narrow terminal too.
            <Box paddingLeft={4}>
              <Text wrap="wrap" color="cyan">
                {'policy: '}
                {cell(p.policy, 300)}
              </Text>
            </Box>
          ) : null}
        </Box>
      ))}
      {pendingLine(request)}
      {request.status?.decision && (
        <Text wrap="truncate-end">
          {cell(request.status.decision.type, 20)} by {cell(request.status.decision.by ?? '?', 40)}: {cell(request.status.decision.reason ?? '', 120)}
        </Text>
      )}
    </Box>
  );
}

/** The waiting extension in one line (the hub's parts box): approvers see what waits for them. */
function pendingLine(request: AccessRequest): ReactElement | null {
  const pending = pendingExtension(request);
  const text = pending ? extensionTexts(request)[pending.index] : undefined;
  return text ? (
    <Text color="yellow" wrap="wrap">
      {cell(text.headline, 400)}
    </Text>
  ) : null;
}

function Extensions({ request }: { request: AccessRequest }): ReactElement | null {
  const texts = extensionTexts(request);
  if (texts.length === 0) return null;
  return (
    <Box flexDirection="column">
      <Text bold>Extensions:</Text>
      {texts.map((t) => (
        <Box key={t.progress.index} flexDirection="column">
          <Text color={t.progress.granted ? 'green' : 'yellow'} wrap="wrap">
            {'  '}
            {cell(t.headline, 600)}
          </Text>
          {t.parts.map((line, i) => (
            <Box key={i} paddingLeft={4}>
              <Text wrap="wrap">{cell(line, 400)}</Text>
            </Box>
          ))}
        </Box>
      ))}
    </Box>
  );
}

function Detail({ state }: { state: State }): ReactElement {
  const r = selectedRequest(state);
  if (!r) return <Text color="yellow">This request no longer exists (deleted). Press Esc.</Text>;
  const row = (k: string, v: string) => (
    <Text wrap="truncate-end">
      <Text dimColor>{k.padEnd(12)}</Text>
      {v}
    </Text>
  );
  const m = state.detail?.materialized;
  return (
    <Box flexDirection="column">
      <Text bold>{cell(r.metadata.name, 63)}</Text>
      {row('Type', r.spec.type)}
      <Text wrap="truncate-end">
        <Text dimColor>{'Phase'.padEnd(12)}</Text>
        <Text color={phaseColor(r)}>{cell(phase(r), 20)}</Text>
        {phase(r) === 'Active' ? `  expires in ${countdown(r.status?.expiresAt, state.now)}` : ''}
      </Text>
      {row('Requester', cell(r.spec.requester?.username ?? '?', 80))}
      {row('From', cell(r.status?.from ?? fromText(r), 120))}
      {row('To', cell(r.status?.to ?? toText(r), 120))}
      {row('Ports', cell(r.status?.portsSummary ?? portsText(r.spec.ports), 120))}
      {row('Duration', cell(r.spec.duration, 32))}
      <Text wrap="wrap">
        <Text dimColor>{'Reason'.padEnd(12)}</Text>
        {cell(r.spec.reason, 600)}
      </Text>
      <PartsBox state={state} request={r} />
      <Extensions request={r} />
      {requestView(state, r).parts.map((p) =>
        p.whoCanApprove ? (
          <Text key={`who-${p.part}`} wrap="truncate-end">
            <Text dimColor>{`who can approve the ${p.part} part: `}</Text>
            {p.whoCanApprove.nobody ? <Text color="yellow">{cell(p.whoCanApprove.approvers, 200)}</Text> : cell(p.whoCanApprove.approvers, 200)}
            {p.whoCanApprove.clusterAdmins ? <Text dimColor>{`  (cluster admins: ${cell(p.whoCanApprove.clusterAdmins, 120)})`}</Text> : null}
          </Text>
        ) : null,
      )}
      {(r.status?.parts ?? []).filter((p) => p.message).map((p) => (
        <Text key={p.part} color={p.state === 'Skipped' || p.state === 'Failed' ? 'yellow' : undefined} wrap="truncate-end">
          {p.part}: {cell(p.state, 20)} — {cell(p.message, 300)}
        </Text>
      ))}
      {(r.status?.conditions ?? []).map((c) => (
        <Text key={c.type} dimColor wrap="truncate-end">
          {cell(c.type, 40)}={cell(c.status, 8)} {cell(c.reason, 60)}: {cell(c.message, 200)}
        </Text>
      ))}
      <PreviewBox state={state} request={r} />
      <Text bold>Objects (clones, maxtac objects, NetworkPolicies):</Text>
      {state.detail?.loading && <Text dimColor>  loading…</Text>}
      {m && m.objects.length === 0 && <Text dimColor>  none yet</Text>}
      {m?.objects.map((o) => (
        <Text key={`${o.kind}/${o.namespace}/${o.name}`} wrap="truncate-end">
          {'  '}
          <Text color={o.kind === 'NetworkPolicy' ? 'green' : 'cyan'}>{o.kind.padEnd(14)}</Text> {cell(`${o.namespace}/${o.name}`, 100)}
          <Text dimColor> {cell(o.note ?? '', 80)}</Text>
        </Text>
      ))}
      {m?.hidden.map((h) => (
        <Text key={h} dimColor>
          {'  '}(you may not list {cell(h, 80)})
        </Text>
      ))}
    </Box>
  );
}

const FORM_TITLES: Record<FormState['kind'], string> = {
  service: 'New Service → Service request',
  external: 'New external CIDR request',
  why: 'Why is FROM → TO on PORT blocked (or allowed)? From the NetworkPolicies you may read',
};

const ANSWER_COLORS: Record<WhyResult['answer'], string> = { allowed: 'green', blocked: 'red', 'partly allowed': 'yellow', unknown: 'yellow' };

/** The answer of `why`, in the CLI's own words (renderWhy), and the key that turns a blocked flow into a request. */
function WhyAnswer({ state }: { state: State }): ReactElement | null {
  const w = state.why;
  if (!w) return null;
  if (w.error) return <Text color="red" wrap="wrap">✘ {cell(w.error, 600)}</Text>;
  if (!w.result) return <Text dimColor>  reading the Services, pods and NetworkPolicies you may read…</Text>;
  const [first = '', ...rest] = renderWhy(w.result).trimEnd().split('\n');
  return (
    <Box flexDirection="column">
      <Text bold color={ANSWER_COLORS[w.result.answer]} wrap="truncate-end">
        {cell(first, 400)}
      </Text>
      {rest.map((line, i) => (
        <Text key={i} wrap="truncate-end">
          {cell(line, 400) || ' '}
        </Text>
      ))}
      {w.result.open && (
        <Text color="cyan" wrap="truncate-end">
          Press n to open this request in the form, filled in: only the reason is left to write.
        </Text>
      )}
    </Box>
  );
}

function Form({ state, form }: { state: State; form: FormState }): ReactElement {
  const errors = formErrors(form, state.namespace ?? state.defaultNamespace);
  const warnings = fieldWarnings(state, form);
  const sugg = suggestions(state, form);
  const ports = targetPorts(state, form);
  return (
    <Box flexDirection="column">
      <Text bold>{FORM_TITLES[form.kind]}</Text>
      {form.fields.map((f, i) => {
        const focused = i === form.focus;
        // Errors show for fields already typed in (CIDRs as you type), and for every field after a submit.
        const err = errors[f.key] && (form.submitted || f.value.trim() !== '' || f.key === 'cidrs') ? errors[f.key] : undefined;
        const showErr = err && (f.value !== '' || form.submitted);
        return (
          <Box key={f.key} flexDirection="column">
            <Text wrap="truncate-end">
              <Text color={focused ? 'cyan' : undefined}>{focused ? '› ' : '  '}{f.label.padEnd(16)}</Text>
              {f.choices ? (
                f.choices.map((c) => (
                  <Text key={c} inverse={c === f.value}>
                    {` ${c} `}
                  </Text>
                ))
              ) : f.value ? (
                <Text>{cell(f.value, Math.max(20, state.width - 22))}</Text>
              ) : (
                <Text dimColor>{f.placeholder ?? ''}</Text>
              )}
              {focused && !f.choices ? <Text inverse> </Text> : null}
              {!err && !warnings[f.key] && f.value.trim() !== '' && !f.choices ? <Text color="green"> ✔</Text> : null}
            </Text>
            {focused && sugg.length > 0 && (
              <Text dimColor wrap="truncate-end">
                {'                  '}Tab ⇥ {sugg.map((s) => cell(s, 40)).join('  ')}
              </Text>
            )}
            {focused && f.key === 'ports' && ports.length > 0 && (
              <Text dimColor wrap="truncate-end">
                {'                  '}the target's ports: {ports.map((p) => cell(p, 20)).join(', ')}
              </Text>
            )}
            {!showErr && warnings[f.key] && (
              <Text color="yellow" wrap="truncate-end">
                {'                  '}! {cell(warnings[f.key], 200)}
              </Text>
            )}
            {showErr && (
              <Text color="red" wrap="truncate-end">
                {'                  '}✘ {cell(err, 200)}
              </Text>
            )}
          </Box>
        );
      })}
      <Text color={form.focus === form.fields.length ? 'cyan' : undefined} bold>
        {form.focus === form.fields.length ? '› ' : '  '}[ {form.kind === 'why' ? 'Ask' : form.busy ? 'Submitting…' : 'Submit'} ]
      </Text>
      {state.namespaces && state.namespaces.length === 0 && <Text dimColor>  (namespaces cannot be listed with your permissions: type them)</Text>}
    </Box>
  );
}

function PreviewBox({ state, request }: { state: State; request: AccessRequest }): ReactElement {
  const preview = previewOfRequest(state, request);
  const materialized = isMaterialized(request);
  return (
    <Box flexDirection="column">
      <Text bold>{materialized ? 'Preview (as granted now, from what you may read):' : 'Preview (what approving would do, from what you may read):'}</Text>
      {preview === undefined && <Text dimColor>  loading…</Text>}
      {preview === null && <Text color="yellow">  could not be read</Text>}
      {preview &&
        previewLines(preview, { materialized }).map((l, i) => (
          <Text key={i} color={l.warn ? 'yellow' : undefined} wrap="truncate-end">
            {'  ' + '  '.repeat(l.depth)}
            {l.warn ? '! ' : ''}
            {cell(l.text, 400)}
          </Text>
        ))}
    </Box>
  );
}

function PromptLine({ state }: { state: State }): ReactElement | null {
  const p = state.prompt;
  if (!p) return null;
  const r = state.requests[p.name];
  const preview = r ? previewOfRequest(state, r) : null;
  if (p.action === 'extend') return <ExtendPrompt state={state} prompt={p} />;
  const pending = r && p.action === 'approve' ? pendingExtension(r) : undefined;
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="yellow" paddingX={1}>
      <Text bold wrap="truncate-end">
        {pending ? `Approve extension ${pending.index + 1} (+${inert(pending.extension.duration)}) for your parts of` : p.action === 'approve' ? 'Approve your parts of' : p.action === 'deny' ? 'Deny' : p.action === 'abort' ? 'Abort' : 'Revoke'} {cell(p.name, 63)}?
      </Text>
      {preview === undefined && <Text dimColor>loading the preview…</Text>}
      {preview === null && <Text color="yellow">the preview could not be read</Text>}
      {preview &&
        previewSummary(preview).map((line, i) => (
          <Text key={i} wrap="truncate-end">
            · {cell(line, 300)}
          </Text>
        ))}
      <Text wrap="truncate-end">
        {p.action === 'approve' ? (
          ''
        ) : (
          <>
            reason{p.required ? '' : ' (optional)'}: {cell(p.reason, 200)}
            <Text inverse> </Text>
          </>
        )}
        <Text dimColor>  Enter confirm · Esc cancel</Text>
      </Text>
    </Box>
  );
}

/** Extend: the duration first (checked on Enter), then what it needs and the optional reason. */
function ExtendPrompt({ state, prompt }: { state: State; prompt: Prompt }): ReactElement {
  const r = state.requests[prompt.name];
  const duration = prompt.duration ?? '';
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="yellow" paddingX={1}>
      <Text bold wrap="truncate-end">
        {prompt.editing ? `Extend ${cell(prompt.name, 63)} by how long?` : `Extend ${cell(prompt.name, 63)} by ${cell(duration, 32)}?`}
      </Text>
      {r && phase(r) === 'Active' ? (
        <Text dimColor wrap="truncate-end">
          expires in {countdown(r.status?.expiresAt, state.now)} now
        </Text>
      ) : null}
      {prompt.editing ? (
        <Text wrap="truncate-end">
          duration: {cell(duration, 32)}
          <Text inverse> </Text>
          <Text dimColor>  e.g. 30m, 1h, 1h30m · Enter next · Esc cancel</Text>
        </Text>
      ) : (
        <>
          {extendOutcome(state, prompt.name, duration).map((line, i) => (
            <Text key={i} wrap="wrap">
              · {cell(line, 400)}
            </Text>
          ))}
          <Text wrap="truncate-end">
            reason (optional): {cell(prompt.reason, 200)}
            <Text inverse> </Text>
            <Text dimColor>  Enter confirm · Esc cancel</Text>
          </Text>
        </>
      )}
    </Box>
  );
}

function Help(): ReactElement {
  const lines: [string, string][] = [
    ['↑/↓ j/k', 'select a request'],
    ['Enter', 'details: parts, permissions, clones, maxtac objects, NetworkPolicies'],
    ['1 2 3 4, Tab', 'Pending, Active, Mine, All'],
    ['s', 'new Service → Service request'],
    ['e', 'new external CIDR request'],
    ['w', 'why is FROM → TO on PORT blocked? (n then opens the request that would allow it)'],
    ['a', 'approve the parts you may approve, or an active access\'s waiting extension (shown only when you may; asks to confirm)'],
    ['d', 'deny (asks for a reason)'],
    ['x', 'abort your own request'],
    ['r', 'revoke an active access'],
    ['t', 'extend an active access: asks how much longer, then to confirm'],
    ['Esc', 'back'],
    ['q, Ctrl-C', 'quit'],
    ['In forms', '↑/↓ field · Tab complete suggestion · ←/→ choose · Enter next/submit · Esc cancel'],
  ];
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>Keys</Text>
      {lines.map(([k, v]) => (
        <Text key={k}>
          <Text color="cyan">{k.padEnd(14)}</Text>
          {v}
        </Text>
      ))}
      <Text dimColor>Any key closes this help.</Text>
    </Box>
  );
}

function Footer({ state }: { state: State }): ReactElement {
  const keys: [string, string][] = [];
  if (state.prompt) keys.push(['Enter', 'confirm'], ['Esc', 'cancel']);
  else if (state.screen === 'service' || state.screen === 'external' || state.screen === 'why') keys.push(['↑/↓', 'field'], ['Tab', 'complete'], ['Enter', 'next/submit'], ['Esc', 'cancel']);
  else {
    if (state.screen === 'hub') keys.push(['↑/↓', 'select'], ['Enter', 'details']);
    else if (state.screen === 'detail') keys.push(['Esc', 'back']);
    else if (state.screen === 'why-result') {
      if (state.why?.result?.open) keys.push(['n', 'request it']);
      keys.push(['w', 'ask again'], ['Esc', 'back']);
    }
    const onRequest = state.screen === 'hub' || state.screen === 'detail';
    const actions = onRequest ? availableActions(state) : [];
    const ext = onRequest ? extensionKeys(state) : { extend: false, approveExtension: false };
    if (actions.includes('approve')) keys.push(['a', 'Approve']);
    else if (ext.approveExtension) keys.push(['a', 'Approve extension']);
    if (actions.includes('deny')) keys.push(['d', 'Deny']);
    if (actions.includes('abort')) keys.push(['x', 'Abort']);
    if (actions.includes('revoke')) keys.push(['r', 'Revoke']);
    if (ext.extend) keys.push(['t', 'Extend']);
    keys.push(['s', 'service req'], ['e', 'external req']);
    if (state.screen !== 'why-result') keys.push(['w', 'why blocked?']);
    keys.push(['?', 'help'], ['q', 'quit']);
  }
  return (
    <Text wrap="truncate-end">
      {keys.map(([k, v]) => (
        <Text key={k + v}>
          <Text inverse> {k} </Text> {v}{'  '}
        </Text>
      ))}
    </Text>
  );
}
