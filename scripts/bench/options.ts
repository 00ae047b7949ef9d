// Flags of scripts/bench.ts. Defaults are the design's sizes ("Numbers to reach").
import { parseArgs } from 'node:util';

export const BENCHES = ['webhook', 'controller', 'plugin', 'why', 'dataplane', 'memory'] as const;
export type BenchName = (typeof BENCHES)[number];
/** The benchmarks --compare runs for both revisions (the others, when asked for with --only, measure this tree only). */
export const COMPARABLE: readonly BenchName[] = ['webhook', 'plugin'];

export interface BenchOptions {
  only: BenchName[];
  /** Webhook: creates per measured round, and how many are in flight. */
  creates: number;
  concurrency: number;
  /** Webhook: measured rounds per side (without / with webhooks), interleaved. */
  rounds: number;
  /** Controller: approved requests materialized and torn down, by the controller and by the bare client. */
  requests: number;
  /** Controller workers, and the bare client's concurrency. */
  workers: number;
  /** Controller: interleaved rounds per side (bare client, controller). */
  controllerRounds: number;
  /** Controller: single approvals timed on an idle controller. */
  latencySamples: number;
  /** Plugin: AccessRequests listed, interleaved runs per command. */
  pluginRequests: number;
  pluginRuns: number;
  /** Why: NetworkPolicies in the two namespaces asked about, interleaved runs per command. */
  whyPolicies: number;
  whyRuns: number;
  /** Dataplane: grants timed per figure and side (netwatch, and maxtac alone). */
  dataplaneSamples: number;
  /** Memory: AccessRequests in the controller's cache. */
  memoryRequests: number;
  /** Write V8 CPU profiles of the webhook and controller processes here. */
  cpuProf: string | undefined;
  /** Also write the figures as JSON here. */
  json: string | undefined;
  /** A git revision whose webhook to measure next to this tree's, in the same rounds (scripts/bench/revision.ts). */
  compare: string | undefined;
}

export const USAGE = `usage: node --import tsx scripts/bench.ts [options]
  --only LIST            comma-separated subset of ${BENCHES.join(',')} (default: all; with --compare: ${COMPARABLE.join(',')})
  --compare REV          also measure git revision REV (e.g. HEAD~1, a commit) in the same rounds: its ${COMPARABLE.join(' and ')}
                         next to this tree's and the baseline, from a temporary worktree outside the repository
  --creates N            webhook: creates per round (1000)
  --concurrency N        webhook: creates in flight (200)
  --rounds N             webhook: measured rounds per side, interleaved (2)
  --requests N           controller: approved requests to materialize and tear down (1000)
  --workers N            controller workers = bare client concurrency (16)
  --controller-rounds N  controller: interleaved rounds per side (2)
  --latency-samples N    controller: approvals timed one at a time (30)
  --plugin-requests N    plugin: AccessRequests in the list (100)
  --plugin-runs N        plugin: interleaved runs per command (30)
  --why-policies N       why: NetworkPolicies in the two namespaces asked about (1000)
  --why-runs N           why: interleaved runs per command (20)
  --dataplane-samples N  dataplane: grants timed per figure, netwatch and maxtac alone each (50; needs root)
  --memory-requests N    memory: AccessRequests cached by the controller (10000)
  --cpu-prof DIR         write CPU profiles of the webhook and controller processes to DIR
  --json FILE            also write the figures as JSON`;

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag}: expected a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      only: { type: 'string' },
      creates: { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      requests: { type: 'string' },
      workers: { type: 'string' },
      'controller-rounds': { type: 'string' },
      'latency-samples': { type: 'string' },
      'plugin-requests': { type: 'string' },
      'plugin-runs': { type: 'string' },
      'why-policies': { type: 'string' },
      'why-runs': { type: 'string' },
      'dataplane-samples': { type: 'string' },
      'memory-requests': { type: 'string' },
      'cpu-prof': { type: 'string' },
      json: { type: 'string' },
      compare: { type: 'string' },
    },
  });
  const compare = values.compare?.trim();
  if (compare !== undefined && (compare === '' || compare.startsWith('-') || /\s/.test(compare))) {
    throw new Error(`--compare: expected a git revision (a commit, branch, tag or HEAD~N), got ${JSON.stringify(values.compare)}`);
  }
  let only: BenchName[] = compare === undefined ? [...BENCHES] : [...COMPARABLE];
  if (values.only !== undefined) {
    const asked = values.only.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = asked.filter((a) => !(BENCHES as readonly string[]).includes(a));
    if (unknown.length > 0 || asked.length === 0) throw new Error(`--only: unknown benchmark ${unknown.join(', ') || '(none)'}; choose from ${BENCHES.join(', ')}`);
    // Always in the canonical order: memory leaves 10,000 requests behind, so it runs last.
    only = BENCHES.filter((b) => asked.includes(b));
    if (compare !== undefined && !only.some((b) => COMPARABLE.includes(b))) {
      throw new Error(`--compare: none of --only ${only.join(',')} can run another revision; choose from ${COMPARABLE.join(', ')}`);
    }
  }
  return {
    only,
    creates: positiveInt('creates', values.creates, 1000),
    concurrency: positiveInt('concurrency', values.concurrency, 200),
    rounds: positiveInt('rounds', values.rounds, 2),
    requests: positiveInt('requests', values.requests, 1000),
    workers: positiveInt('workers', values.workers, 16),
    controllerRounds: positiveInt('controller-rounds', values['controller-rounds'], 2),
    latencySamples: positiveInt('latency-samples', values['latency-samples'], 30),
    pluginRequests: positiveInt('plugin-requests', values['plugin-requests'], 100),
    pluginRuns: positiveInt('plugin-runs', values['plugin-runs'], 30),
    whyPolicies: positiveInt('why-policies', values['why-policies'], 1000),
    whyRuns: positiveInt('why-runs', values['why-runs'], 20),
    dataplaneSamples: positiveInt('dataplane-samples', values['dataplane-samples'], 50),
    memoryRequests: positiveInt('memory-requests', values['memory-requests'], 10_000),
    cpuProf: values['cpu-prof'],
    json: values.json,
    compare,
  };
}
