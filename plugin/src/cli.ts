// `kubectl netwatch`: commands. Parses flags (yargs), builds the cluster port from the user's kubeconfig, calls
// services and prints. Ink and React are imported only when the TUI opens, so scripted use starts fast.
import { isDns1123Subdomain } from '../../lib/api/names.ts';
import { isValidCidr } from '../../lib/domain/cidr.ts';
import { uniqueCidrs } from '../../lib/domain/cidr-policy.ts';
import yargs, { type Argv } from 'yargs';
import type { AccessRequest, DecisionType, PartName } from '../../lib/api/accessrequest.ts';
import { partsOf } from '../../lib/domain/parts.ts';
import { approvalProgress, extendedExpiry, type ExtensionProgress } from '../../lib/domain/actions.ts';
import { UserError, explain, report } from './errors.ts';
import { inert } from '../../lib/text/inert.ts';
import { renderDescribe, renderPreview, renderTable, tableRow } from './services/output.ts';
import { previewFor } from './services/preview.ts';
import type { ClusterPort, Identity } from './services/port.ts';
import {
  approve,
  byNewest,
  checkRequest,
  decide,
  extend,
  externalSpec,
  materializedOf,
  matches,
  newRequest,
  partPermissions,
  serviceSpec,
  viewOf,
  type ListFilter,
} from './services/requests.ts';
import type { KubeOptions } from './services/kube.ts';
import { dryRunPlan } from './services/dryrun.ts';
import { renderWhy, why, whyQuery } from './services/why.ts';
import { forPrinting, printListJson, printedList, writeOut } from './list-json.ts';

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface CliDeps extends Io {
  /** Builds the port from the global flags; the default loads the user's kubeconfig (services/kube.ts). */
  makePort?: (opts: KubeOptions) => ClusterPort | Promise<ClusterPort>;
  now?: () => number;
  /** Resolves when the user interrupts a long-running command (list --watch); default: SIGINT. */
  interrupted?: Promise<void>;
  /** The environment variables the plugin reads (main.ts passes process.env): NETWATCH_CLUSTER_CIDR. */
  env?: Readonly<Record<string, string | undefined>>;
}

interface GlobalFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  'all-namespaces'?: boolean;
  'cluster-cidr'?: string[];
}

export const CLUSTER_CIDR_ENV = 'NETWATCH_CLUSTER_CIDR';

/**
 * The cluster's own pod and Service ranges, for the preview's `cluster` risk class: --cluster-cidr (repeatable, or
 * comma-separated), else $NETWATCH_CLUSTER_CIDR (separated by commas or spaces). The flag replaces the variable, as
 * kubectl's flags do. A value that is not a CIDR is refused naming where it came from, before any command runs.
 */
export function clusterCidrsOf(flag: readonly string[] | undefined, env: string | undefined): string[] {
  const [source, text] = flag && flag.length > 0 ? ['--cluster-cidr', flag.join(',')] : [CLUSTER_CIDR_ENV, env ?? ''];
  const cidrs = text.split(/[\s,]+/).filter(Boolean);
  const wrong = cidrs.filter((c) => !isValidCidr(c));
  if (wrong.length > 0) {
    throw new UserError(
      `${source}: ${wrong.map((c) => `"${inert(c)}"`).join(', ')} ${wrong.length === 1 ? 'is not a CIDR' : 'are not CIDRs'} with a prefix`,
      `give the cluster's pod and Service ranges, e.g. --cluster-cidr 10.244.0.0/16 --cluster-cidr 10.96.0.0/12`,
    );
  }
  return uniqueCidrs(cidrs);
}

const NAMED_COMMANDS = ['describe', 'approve', 'extend', 'deny', 'abort', 'revoke', 'can-i'];

// For the standalone executable. `kubectl netwatch <TAB>` uses plugin/bin/kubectl_complete-netwatch instead,
// which kubectl (1.26+) runs for plugin completion.
const COMPLETION_SCRIPT = `###-begin-kubectl-netwatch-completions-###
_kubectl_netwatch_completions() {
  local cur_word args type_list
  cur_word="\${COMP_WORDS[COMP_CWORD]}"
  args=("\${COMP_WORDS[@]}")
  type_list=$(kubectl-netwatch --get-yargs-completions "\${args[@]:1}" 2>/dev/null)
  COMPREPLY=( $(compgen -W "\${type_list}" -- "\${cur_word}") )
  return 0
}
if [[ -n \${ZSH_VERSION:-} ]]; then autoload -U +X bashcompinit && bashcompinit; fi
complete -o default -F _kubectl_netwatch_completions kubectl-netwatch
###-end-kubectl-netwatch-completions-###
`;

const KIND_PREFIX = /^(ar|accessrequests?)(\.netwatch\.vtk\.io)?\//;

/**
 * A request NAME as given on the command line. Accepts kubectl's KIND/NAME form too (what `list -o name` prints),
 * so `list -o name | xargs -n1 kubectl netwatch approve` works. Anything else is refused before a call is made:
 * an empty name would otherwise address the whole collection.
 */
export function requestName(text: string): string {
  const name = text.replace(KIND_PREFIX, '');
  if (name.length === 0 || !isDns1123Subdomain(name)) {
    throw new UserError(
      `NAME "${inert(text)}" is not a request name: lower-case letters, digits, "-" and ".", at most 253 characters`,
      'list requests with: kubectl netwatch list',
    );
  }
  return name;
}

const OUTPUTS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
type Output = (typeof OUTPUTS)[number];

async function defaultPort(opts: KubeOptions): Promise<ClusterPort> {
  const { CliKubePort } = await import('./services/kube-cli.ts');
  return CliKubePort.fromOptions(opts);
}

async function toYaml(value: unknown): Promise<string> {
  const { stringify } = await import('yaml');
  return stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
}

/** Every YAML document of a file (`-` reads nothing else: a file name is required). */
async function readYamlFile(path: string): Promise<unknown[]> {
  const { readFile } = await import('node:fs/promises');
  const { parseAllDocuments } = await import('yaml');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${inert(path)}: ${inert((err as { code?: string }).code ?? String(err))}`);
  }
  const docs = parseAllDocuments(text);
  const out: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) throw new UserError(`${inert(path)} is not valid YAML: ${inert(doc.errors[0]?.message ?? '')}`);
    out.push(doc.toJS());
  }
  return out;
}

async function print(io: Io, text: string): Promise<void> {
  if (text.length > 0) await writeOut(io.stdout, text);
}

/** `NAMESPACE/` for each namespace, or, once one is typed, `NAMESPACE/SERVICE` for its Services. */
async function serviceRefCandidates(port: ClusterPort, current: string): Promise<string[]> {
  const slash = current.indexOf('/');
  if (slash < 0) return (await port.listNamespaces()).map((ns) => `${ns}/`).filter((c) => c.startsWith(current));
  const ns = current.slice(0, slash);
  return (await port.listServices(ns)).map((svc) => `${ns}/${svc.metadata.name ?? ''}`).filter((c) => c.startsWith(current));
}

/** The ports (PORT/PROTOCOL) of the --to Service; after a comma, the next port of a list. */
async function portCandidates(port: ClusterPort, to: string | undefined, current: string): Promise<string[]> {
  const [ns, name] = to?.split('/') ?? [];
  if (!ns || !name) return [];
  const svc = await port.getService(ns, name);
  const head = current.slice(0, current.lastIndexOf(',') + 1);
  const taken = head.split(',').filter(Boolean);
  return (svc?.spec?.ports ?? [])
    .map((p) => `${p.port}/${p.protocol ?? 'TCP'}`)
    .filter((p) => !taken.includes(p))
    .map((p) => head + p)
    .filter((c) => c.startsWith(current));
}

/** Runs the CLI; returns the exit code (0 ok, 1 user error, 2 bug). Never calls process.exit. */
export async function run(argv: readonly string[], deps: CliDeps): Promise<number> {
  const now = deps.now ?? Date.now;
  let port: ClusterPort | undefined;
  let flags: GlobalFlags = {};
  let clusterCidrs: string[] = [];
  const portOf = async (): Promise<ClusterPort> => {
    port ??= await (deps.makePort ?? defaultPort)({
      kubeconfig: flags.kubeconfig,
      context: flags.context,
      namespace: flags.namespace,
    });
    return port;
  };
  let identity: Identity | undefined;
  let pendingCompletion: Promise<void> | undefined;
  const me = async (): Promise<Identity> => {
    identity ??= await (await portOf()).whoAmI().catch((err: unknown) => {
      throw explain(err, 'asking the API server who you are');
    });
    return identity;
  };
  const listFilter = (a: { mine?: boolean; pending?: boolean; active?: boolean }): ListFilter => ({
    mine: !!a.mine,
    pending: !!a.pending,
    active: !!a.active,
    namespace: flags['all-namespaces'] ? undefined : flags.namespace,
  });

  const emitRequest = async (r: AccessRequest, output: Output | undefined, verb: string) => {
    if (output === 'json') return print(deps, JSON.stringify(forPrinting(r), null, 4) + '\n');
    if (output === 'yaml') return print(deps, await toYaml(forPrinting(r)));
    if (output === 'name') return print(deps, `accessrequest.netwatch.vtk.io/${inert(r.metadata.name)}\n`);
    return print(deps, `accessrequest.netwatch.vtk.io/${inert(r.metadata.name)} ${verb}\n`);
  };

  const createRequest = async (spec: ReturnType<typeof serviceSpec>, a: { 'dry-run'?: boolean; output?: string }) => {
    const p = await portOf();
    await checkRequest(p, spec);
    const body = newRequest(spec);
    if (a['dry-run']) {
      const plan = await dryRunPlan(body, p, { clusterCidrs });
      const docs: unknown[] = [body, ...plan.objects];
      if (a.output === 'json') await print(deps, JSON.stringify(docs.length === 1 ? body : { apiVersion: 'v1', kind: 'List', items: docs }, null, 4) + '\n');
      else {
        // The preview as YAML comments: the output stays a valid YAML stream.
        const preview = plan.preview ? ['# preview (from what you may read):', ...renderPreview(plan.preview, false, '#   ')].join('\n') + '\n' : '';
        await print(deps, `# would create (dry run; nothing was sent to the cluster)\n${preview}${(await Promise.all(docs.map(toYaml))).join('---\n')}`);
        if (plan.note) deps.stderr.write(`note: ${plan.note}\n`);
      }
      return;
    }
    let created: AccessRequest;
    try {
      created = await p.createRequest(body);
    } catch (err) {
      throw explain(err, 'creating the access request');
    }
    await emitRequest(created, a.output as Output | undefined, 'created');
    if (!a.output) {
      const parts = partsOf(created.spec);
      const auto = created.spec.requester?.approvedParts ?? [];
      const waiting = parts.filter((pt) => !auto.includes(pt.name));
      if (parts.length > 0 && waiting.length === 0) deps.stderr.write('every part was approved by you at creation: the access becomes Active shortly\n');
      else if (waiting.length > 0) {
        deps.stderr.write(`waiting for approval of: ${waiting.map((w) => `${w.name} (${w.namespace})`).join(', ')}\n`);
      }
    }
  };

  const decision = async (type: DecisionType, name: string, reason: string | undefined) => {
    const r = await decide(await portOf(), name, type, reason);
    await print(deps, `accessrequest.netwatch.vtk.io/${inert(r.metadata.name)} ${type.toLowerCase()}\n`);
  };

  const nameArg = <T,>(y: Argv<T>) =>
    y.positional('name', { type: 'string', demandOption: true, describe: 'AccessRequest name', coerce: requestName });

  let parser = yargs([...argv])
    .scriptName('kubectl netwatch')
    .usage(
      'kubectl netwatch: time-bound, approval-gated network access.\n\nOn a terminal, `kubectl netwatch` with no command opens the interactive view.\n\nUsage: kubectl netwatch [command] [flags]',
    )
    .option('kubeconfig', { type: 'string', describe: 'Path to the kubeconfig file', global: true })
    .option('context', { type: 'string', describe: 'The kubeconfig context to use', global: true })
    .option('namespace', { alias: 'n', type: 'string', describe: 'Namespace: default for NAME/SERVICE refs; filters list', global: true })
    .option('all-namespaces', { alias: 'A', type: 'boolean', describe: 'List requests of every namespace', global: true })
    .option('cluster-cidr', {
      type: 'string',
      array: true,
      // One value per flag: a greedy list would take the command's own words as CIDRs.
      nargs: 1,
      describe: `The cluster's pod or Service range (repeatable; default $${CLUSTER_CIDR_ENV}, comma-separated): the preview classes a requested CIDR inside one as "cluster"`,
      global: true,
    })
    .middleware((a) => {
      flags = a;
      clusterCidrs = clusterCidrsOf(a['cluster-cidr'], deps.env?.[CLUSTER_CIDR_ENV]);
    })
    .command('request', 'Create an access request', (y) =>
      y
        .command(
          'service',
          'Service to Service access',
          (s) =>
            s
              .option('from', { type: 'string', demandOption: true, describe: 'Source NAMESPACE/SERVICE (or SERVICE in -n)' })
              .option('to', { type: 'string', demandOption: true, describe: 'Target NAMESPACE/SERVICE' })
              .option('ports', { type: 'string', describe: 'e.g. 5432/TCP,53/UDP (default: every port of the target)' })
              .option('duration', { type: 'string', default: '1h', describe: 'e.g. 30m, 2h, 1h30m' })
              .option('reason', { type: 'string', demandOption: true, describe: 'Why the access is needed' })
              .option('dry-run', { type: 'boolean', describe: 'Print what would be created; send nothing' })
              .option('output', { alias: 'o', choices: ['json', 'yaml', 'name'] as const })
              .example('kubectl netwatch request service --from monitoring/prometheus --to default/database --ports 5432/TCP --duration 2h --reason "debug replication"', ''),
          async (a) => {
            const ns = (await portOf()).info.namespace;
            await createRequest(serviceSpec({ from: a.from, to: a.to, ports: a.ports, duration: a.duration, reason: a.reason }, ns), a);
          },
        )
        .command(
          'external',
          'External CIDRs to/from a Service',
          (s) =>
            s
              .option('cidr', { type: 'string', array: true, demandOption: true, describe: 'CIDR(s), e.g. 203.0.113.7/32 (repeat or comma-separate)' })
              .option('to', { type: 'string', demandOption: true, describe: 'The in-cluster NAMESPACE/SERVICE' })
              .option('direction', { choices: ['ingress', 'egress', 'both'] as const, default: 'ingress' as const, describe: 'ingress: CIDRs reach the Service' })
              .option('ports', { type: 'string', describe: 'e.g. 443/TCP (default: every port of the Service)' })
              .option('duration', { type: 'string', default: '1h' })
              .option('reason', { type: 'string', demandOption: true })
              .option('dry-run', { type: 'boolean', describe: 'Print what would be created; send nothing' })
              .option('output', { alias: 'o', choices: ['json', 'yaml', 'name'] as const }),
          async (a) => {
            const ns = (await portOf()).info.namespace;
            await createRequest(
              externalSpec({ cidrs: a.cidr, to: a.to, direction: a.direction, ports: a.ports, duration: a.duration, reason: a.reason }, ns),
              a,
            );
          },
        )
        .demandCommand(1, 'say which kind: kubectl netwatch request service|external'),
    )
    .command(
      ['list', 'ls', 'get'],
      'List access requests',
      (y) =>
        y
          .option('output', { alias: 'o', choices: OUTPUTS, default: 'table' })
          .option('watch', { alias: 'w', type: 'boolean', describe: 'Keep printing changes' })
          .option('mine', { type: 'boolean', describe: 'Only requests you made' })
          .option('pending', { type: 'boolean', describe: 'Only Pending and PartiallyApproved requests' })
          .option('active', { type: 'boolean', describe: 'Only Active accesses' })
          // yargs reads --no-X as X=false: the flag users type, --no-headers, is the negation of this one.
          .option('headers', { type: 'boolean', default: true, describe: 'Print the header line; --no-headers omits it' }),
      async (a) => {
        const p = await portOf();
        const filter = listFilter(a);
        const needMe = !!filter.mine;
        const filtered = needMe || filter.pending || filter.active || filter.namespace;
        // The common scripted case prints the server's list as is: no identity lookup, no per-item work.
        if (a.output === 'json' && !filtered && !a.watch) return printListJson(p, deps.stdout);
        const who = needMe ? await me() : undefined;
        const list = await p.listRequests().catch((err: unknown) => {
          throw explain(err, 'listing access requests');
        });
        const items = list.items.filter((r) => matches(r, filter, who)).sort(byNewest);
        const out = a.output;
        const printed = printedList(items);
        if (out === 'json') await print(deps, JSON.stringify(printed, null, 4) + '\n');
        else if (out === 'yaml') await print(deps, await toYaml(printed));
        else if (out === 'name') await print(deps, items.map((r) => `accessrequest.netwatch.vtk.io/${inert(r.metadata.name)}\n`).join(''));
        else if (items.length === 0 && !a.watch) deps.stderr.write('No access requests found.\n');
        else await print(deps, renderTable(items, now(), { wide: out === 'wide', noHeaders: a.headers === false }));
        if (!a.watch) return;
        await watchLoop(p, list.resourceVersion, (ev) => {
          if (!matches(ev.object, filter, who)) return;
          if (out === 'json') void print(deps, JSON.stringify({ type: ev.type, object: forPrinting(ev.object) }) + '\n');
          else if (out === 'yaml') void toYaml({ type: ev.type, object: forPrinting(ev.object) }).then((y) => print(deps, `---\n${y}`));
          else if (out === 'name') void print(deps, `accessrequest.netwatch.vtk.io/${inert(ev.object.metadata.name)}\n`);
          else {
            const row = tableRow(ev.object, now(), out === 'wide');
            if (ev.type === 'DELETED') row[5] = 'Deleted';
            void print(deps, row.join('   ') + '\n');
          }
        }, deps.interrupted);
      },
    )
    .command('describe <name>', 'Show a request: parts, permissions, approvals, objects', nameArg, async (a) => {
      const p = await portOf();
      const r = await p.getRequest(a.name).catch((err: unknown) => {
        throw explain(err, `accessrequest "${inert(a.name)}"`);
      });
      const [who, perms, materialized, preview] = await Promise.all([
        me().catch(() => undefined),
        partPermissions(p, partsOf(r.spec)).catch(() => new Map<PartName, boolean>()),
        materializedOf(p, r).catch(() => undefined),
        previewFor(p, r, { clusterCidrs }).catch(() => undefined),
      ]);
      await print(deps, renderDescribe({ request: r, view: viewOf(r, who, perms), materialized, preview, now: now() }));
    })
    .command(
      'approve <name>',
      'Approve the parts of a request you may approve (on an Active request with an extension waiting: that extension)',
      (y) => nameArg(y).option('part', { choices: ['source', 'target'] as const, describe: 'Approve only this part' }),
      async (a) => {
        const { request, approved, extension } = await approve(await portOf(), a.name, a.part);
        if (extension) {
          await print(deps, `accessrequest.netwatch.vtk.io/${inert(request.metadata.name)} extension ${extension.index + 1} approved (${approved.join(', ')}): ${extensionOutcome(request, extension)}\n`);
          return;
        }
        // Under an AccessPolicy that asks for several approvers, an approval may not complete its part yet.
        const parts = approved.map((part) => {
          const progress = approvalProgress(request, part);
          return progress.requirement.kind === 'count' && progress.missing > 0
            ? `${part}: ${progress.approvers.length} of ${progress.requirement.count} approvals, ${progress.missing} missing`
            : part;
        });
        await print(deps, `accessrequest.netwatch.vtk.io/${inert(request.metadata.name)} approved (${parts.join(', ')})\n`);
      },
    )
    .command(
      'extend <name>',
      'Ask for more time on an Active access: approved automatically within each part\'s maxTotalDuration, otherwise by the parts\' approvers again',
      (y) =>
        nameArg(y)
          .option('by', { type: 'string', demandOption: true, describe: 'How much longer, e.g. 30m, 1h, 1h30m' })
          .option('reason', { type: 'string', describe: 'Why more time is needed' }),
      async (a) => {
        const { request, extension, approved } = await extend(await portOf(), a.name, a.by, a.reason);
        const yours = approved.length > 0 ? ` (you approved ${approved.join(', ')})` : '';
        await print(deps, `accessrequest.netwatch.vtk.io/${inert(request.metadata.name)} extension ${extension.index + 1} (+${inert(extension.extension.duration)})${yours}: ${extensionOutcome(request, extension)}\n`);
      },
    )
    .command(
      'deny <name>',
      'Deny a pending request (needs permission to approve one of its pending parts)',
      (y) => nameArg(y).option('reason', { type: 'string', demandOption: true, describe: 'Why it is denied' }),
      (a) => decision('Denied', a.name, a.reason),
    )
    .command('abort <name>', 'Withdraw your own request before it is Active', (y) => nameArg(y).option('reason', { type: 'string' }), (a) => decision('Aborted', a.name, a.reason))
    .command('revoke <name>', 'End an Active access early', (y) => nameArg(y).option('reason', { type: 'string' }), (a) => decision('Revoked', a.name, a.reason))
    .command(
      'can-i [name]',
      'What you may do: create requests, approve in -n NAMESPACE, or act on request NAME',
      (y) => y.positional('name', { type: 'string', coerce: (v: string | undefined) => (v === undefined ? v : requestName(v)) }),
      async (a) => {
        const p = await portOf();
        if (a.name) {
          const r = await p.getRequest(a.name).catch((err: unknown) => {
            throw explain(err, `accessrequest "${inert(a.name ?? '')}"`);
          });
          const [who, perms] = await Promise.all([me(), partPermissions(p, partsOf(r.spec))]);
          const view = viewOf(r, who, perms);
          const rows = view.parts.map((pt) => [
            `approve ${pt.part} (${inert(pt.namespace)})`,
            pt.youMayApprove ? 'yes' : 'no',
            pt.approved ? `already approved by ${inert(pt.approvedBy ?? '?')}` : inert(pt.needs),
          ]);
          for (const act of ['deny', 'abort', 'revoke'] as const) rows.push([act, view.actions.includes(act) ? 'yes' : 'no', '']);
          rows.push(['extend', view.mayExtend ? 'yes' : 'no', '']);
          if (view.pendingExtension) {
            for (const part of view.pendingExtension.waitingFor) rows.push([`approve extension ${view.pendingExtension.index + 1} ${part}`, view.approvableExtension.includes(part) ? 'yes' : 'no', '']);
          }
          await print(deps, rows.map((r2) => r2.filter(Boolean).join('\t')).join('\n') + '\n');
          return;
        }
        const ns = p.info.namespace;
        const checks = [
          { verb: 'create', group: 'netwatch.vtk.io', resource: 'accessrequests', namespace: '' },
          { verb: 'list', group: 'netwatch.vtk.io', resource: 'accessrequests', namespace: '' },
        ];
        const [create, list] = await p.canI(checks).catch((err: unknown) => {
          throw explain(err, 'asking the API server');
        });
        const perms = await partPermissions(p, [
          { name: 'target', namespace: ns, maxtacKind: 'Access', maxtacResource: 'accesses' },
        ]);
        const ext = await partPermissions(p, [
          { name: 'target', namespace: ns, maxtacKind: 'ExternalAccess', maxtacResource: 'externalaccesses' },
        ]);
        const yn = (b: boolean | undefined) => (b ? 'yes' : 'no');
        await print(
          deps,
          [
            `create access requests\t${yn(create)}`,
            `list access requests\t${yn(list)}`,
            `approve Service parts in ${inert(ns)}\t${yn(perms.get('target'))}`,
            `approve External parts in ${inert(ns)}\t${yn(ext.get('target'))}`,
          ].join('\n') + '\n',
        );
      },
    )
    .command(
      'why',
      'Is FROM → TO on PORT allowed by the NetworkPolicies in force, and why (what you may read of them)',
      (y) =>
        y
          .option('from', { type: 'string', demandOption: true, describe: 'Source NAMESPACE/SERVICE (or SERVICE in -n), or an address or CIDR outside the cluster' })
          .option('to', { type: 'string', demandOption: true, describe: 'Target NAMESPACE/SERVICE' })
          .option('port', { type: 'string', demandOption: true, describe: "PORT[/PROTOCOL] of the target Service (TCP by default); its targetPort is what the pods' policies see" })
          .option('output', { alias: 'o', choices: ['json', 'yaml'] as const })
          .example('kubectl netwatch why --from monitoring/prometheus --to payments/database --port 5432', '')
          .example('kubectl netwatch why --from 203.0.113.0/24 --to shop/frontend --port 443/TCP -o json', ''),
      async (a) => {
        const p = await portOf();
        const result = await why(p, whyQuery({ from: a.from, to: a.to, port: a.port }, p.info.namespace));
        if (a.output === 'json') await print(deps, JSON.stringify(result, null, 4) + '\n');
        else if (a.output === 'yaml') await print(deps, await toYaml(result));
        else await print(deps, renderWhy(result));
      },
    )
    .command('policy', 'AccessPolicies: test them offline', (y) =>
      y
        .command(
          'test <policies> <requests>',
          'Evaluate AccessRequests against AccessPolicies offline and print the decision per part (no cluster needed)',
          (t) =>
            t
              .positional('policies', { type: 'string', demandOption: true, describe: 'YAML file of AccessPolicy objects (Services for label rules may be in either file)' })
              .positional('requests', { type: 'string', demandOption: true, describe: 'YAML file of AccessRequest objects' })
              .option('output', { alias: 'o', choices: ['json', 'yaml'] as const })
              .example('kubectl netwatch policy test payments-policy.yaml requests.yaml', ''),
          async (a) => {
            const { policyTest, renderPolicyTest } = await import('./services/policy-test.ts');
            const rows = policyTest(await readYamlFile(a.policies), await readYamlFile(a.requests));
            if (a.output === 'json') await print(deps, JSON.stringify(rows, null, 4) + '\n');
            else if (a.output === 'yaml') await print(deps, await toYaml(rows));
            else await print(deps, renderPolicyTest(rows));
          },
        )
        .demandCommand(1, 'name a subcommand: test'),
    )
    .command('tui', 'Open the interactive view (the default on a terminal)', {}, async () => {
      await openTui(deps, await portOf(), flags, clusterCidrs);
    })
    .command('$0', false, {}, async () => {
      if (!deps.stdout.isTTY || !deps.stdin.isTTY) {
        throw new UserError('no command given and not on a terminal', 'run kubectl netwatch --help, or kubectl netwatch list');
      }
      await openTui(deps, await portOf(), flags, clusterCidrs);
    })
    .command('completion', 'Print a bash/zsh completion script: source <(kubectl-netwatch completion)', {}, async () => {
      await print(deps, COMPLETION_SCRIPT);
    })
    // The hidden hook both scripts call (`--get-yargs-completions WORDS…`): commands and flags from yargs, plus
    // request names for the commands that take one.
    .completion('__complete', false, (current: string, a: { _: unknown[] }, defaultCompletion: (cb: (err: Error | null, completions: string[] | undefined) => void) => void, done: (completions: string[]) => void) => {
      defaultCompletion((_err, defaults) => {
        const first = a._[0];
        const cmd = typeof first === 'string' ? first : '';
        // A flag's value: Services (NAMESPACE/SERVICE) after --from and --to, the --to Service's ports after
        // --ports and --port, as the user may list them.
        const words = argv.slice(argv.indexOf('--get-yargs-completions') + 1);
        const flag = words.at(-2);
        if (flag === '--from' || flag === '--to' || flag === '--ports' || flag === '--port') {
          const to = words[words.lastIndexOf('--to') + 1];
          pendingCompletion = portOf()
            .then((p) => (flag === '--from' || flag === '--to' ? serviceRefCandidates(p, current) : portCandidates(p, words.includes('--to') ? to : undefined, current)))
            .catch(() => [])
            .then((values) => print(deps, values.map((n) => `${inert(n)}\n`).join('')));
          return done([]);
        }
        if (!NAMED_COMMANDS.includes(cmd) || current.startsWith('-')) return done(defaults ?? []);
        // yargs does not wait for an asynchronous completion under parseAsync: print the names ourselves and let
        // run() wait for them.
        pendingCompletion = portOf()
          .then((p) => p.listRequests())
          .then(
            (list) => list.items.map((r) => inert(r.metadata.name)).filter((n) => n.startsWith(current)),
            () => [],
          )
          .then((names) => print(deps, [...(defaults ?? []), ...names].map((n) => `${n}\n`).join('')));
        done([]);
      });
    })
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(120, deps.stdout.columns ?? 100))
    .exitProcess(false);

  let output = '';
  let failure: unknown;

  parser = parser.fail((msg, err) => {
    failure = err ?? new UserError(msg, 'see: kubectl netwatch --help');
    // Thrown, or yargs goes on to run the command's handler without the missing required flag.
    throw failure;
  });
  try {
    await parser.parseAsync([...argv], {}, (err, _a, out) => {
      if (err && !failure) failure = err;
      output = out;
    });
  } catch (err) {
    failure ??= err;
  }
  await pendingCompletion;
  if (failure === undefined && output) await print(deps, output.endsWith('\n') ? output : output + '\n');
  if (failure === undefined) return 0;
  if (failure instanceof Error && failure.name === 'YError') {
    deps.stderr.write(`error: ${failure.message}\nhint: see kubectl netwatch --help\n`);
    return 1;
  }
  return report(failure, deps.stderr);
}

async function watchLoop(
  p: ClusterPort,
  resourceVersion: string,
  onEvent: Parameters<ClusterPort['watchRequests']>[1],
  interrupted: Promise<void> | undefined,
): Promise<void> {
  let rv = resourceVersion;
  let stop = false;
  let current: { stop(): void } | undefined;
  const stopped = (interrupted ?? new Promise<void>((r) => process.once('SIGINT', () => r()))).then(() => {
    stop = true;
    current?.stop();
  });
  while (!stop) {
    const ended = await new Promise<Error | undefined>((resolve) => {
      current = p.watchRequests(
        rv,
        (ev) => {
          rv = ev.object.metadata.resourceVersion ?? rv;
          onEvent(ev);
        },
        resolve,
      );
    });
    if (stop) break;
    if (ended) {
      // 410 Gone: our resourceVersion is too old; start from a fresh list (events may be skipped; kubectl does the same).
      if ((ended as { status?: number }).status === 410) rv = (await p.listRequests()).resourceVersion;
      else throw explain(ended, 'watching access requests');
    }
  }
  await stopped;
}

/**
 * Ink decides once, when it is loaded, whether it may draw: with CI or CONTINUOUS_INTEGRATION set it draws only the
 * last frame at exit, which leaves a blank terminal. The user asked for the interactive view on a terminal, so the
 * variables are hidden while Ink loads and put back at once (child processes such as credential plugins see them).
 */
async function loadTui(): Promise<typeof import('./tui/main.tsx')> {
  const hidden = ['CI', 'CONTINUOUS_INTEGRATION'].filter((k) => k in process.env).map((k) => [k, process.env[k]] as const);
  for (const [k] of hidden) delete process.env[k];
  try {
    return await import('./tui/main.tsx');
  } finally {
    for (const [k, v] of hidden) process.env[k] = v;
  }
}

async function openTui(deps: CliDeps, port: ClusterPort, flags: GlobalFlags, clusterCidrs: string[]): Promise<void> {
  const { openTui: open } = await loadTui();
  await open({ port, stdin: deps.stdin, stdout: deps.stdout, namespace: flags['all-namespaces'] ? undefined : flags.namespace, clusterCidrs });
}

/** What became of an extension, in one line: granted (and where expiresAt goes), or the parts it waits for. */
function extensionOutcome(r: AccessRequest, e: ExtensionProgress): string {
  if (e.granted) return `extended to ${inert(extendedExpiry(r) ?? '?')} (the controller moves expiresAt and renews the grant's objects now)`;
  const waiting = e.parts.filter((p) => p.missing > 0).map((p) => `${p.part} (${inert(p.namespace)}, ${p.missing} approval${p.missing === 1 ? '' : 's'} missing)`);
  return `waiting for approval of: ${waiting.join(', ')}`;
}
