// `npm run bench`: the design's "Numbers to reach", measured in one run on ONE local control plane (etcd +
// kube-apiserver; maxtac is not started: no figure depends on its NetworkPolicies, and its reactions would add
// writes the bare-client baselines do not make). The dataplane benchmark is the exception: its figures are
// NetworkPolicies enforced by a real engine, so it starts a control plane of its own with maxtac, the garbage
// collector and the test dataplane (root only; elsewhere it says why and is skipped). Each benchmark runs in turn,
// compares against a baseline measured in the same process and run (interleaved where the design asks for a ratio),
// and the final table says which targets are met. Benchmarks print numbers; they assert nothing (exit code 0 unless
// one of them crashed). With --compare REV, another revision's webhook (scripts/bench/revision.ts) takes part in the
// same interleaved rounds, and a second table puts REV's figures, this tree's and the baseline side by side.
//   node --import tsx scripts/bench.ts [--only webhook,controller,plugin,why,dataplane,memory] [--requests 1000] ...  (--help)
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { startControlPlane } from './controlplane.ts';
import { benchController } from './bench/controller.ts';
import { benchDataplane } from './bench/dataplane.ts';
import { benchMemory } from './bench/memory.ts';
import { COMPARABLE, parseBenchArgs, USAGE, type BenchName, type BenchOptions } from './bench/options.ts';
import { benchPlugin } from './bench/plugin.ts';
import { benchWhy } from './bench/why.ts';
import { prepareRevision, type CompareWith } from './bench/revision.ts';
import { evaluate, formatComparison, formatTable, missed, type Comparison, type Figure } from './bench/table.ts';
import { benchWebhook } from './bench/webhook.ts';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
let opts: BenchOptions;
try {
  opts = parseBenchArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const began = Date.now();
log(`netwatch benchmarks: ${opts.only.join(', ')} on ${cpus().length} CPUs, Node ${process.version}, load average ${load()}`);

const figures: Figure[] = [];
const comparisons: Comparison[] = [];
const failures: string[] = [];
// --compare: the other revision, checked out and bundled before anything starts (a revision that cannot be run stops
// the benchmark here, with what it lacks).
let compareWith: CompareWith | undefined;
if (opts.compare !== undefined) {
  try {
    compareWith = await prepareRevision(opts.compare, opts.only.filter((b) => COMPARABLE.includes(b)), log);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  log(`comparing with ${compareWith.checkout.label}, checked out in ${compareWith.checkout.root}; HEAD is this tree as it is (uncommitted changes included)`);
  const alone = opts.only.filter((b) => !COMPARABLE.includes(b));
  if (alone.length > 0) log(`--compare: ${alone.join(', ')} measure this tree only (comparable: ${COMPARABLE.join(', ')})`);
}
// The shared control plane, unless only the dataplane benchmark (which brings its own) runs.
const cp = opts.only.some((b) => b !== 'dataplane') ? await startControlPlane({ maxtac: false }) : undefined;
const shared = () => {
  if (!cp) throw new Error('the shared control plane was not started');
  return cp;
};
try {
  const profileDir = opts.cpuProf;
  const run: Record<BenchName, () => Promise<Figure[]>> = {
    webhook: async () => {
      const got = await benchWebhook(shared(), {
        creates: opts.creates,
        concurrency: opts.concurrency,
        rounds: opts.rounds,
        log,
        ...(profileDir ? { profileDir } : {}),
        ...(compareWith?.bundles ? { compare: { checkout: compareWith.checkout, bundles: compareWith.bundles } } : {}),
      });
      comparisons.push(...(got.comparisons ?? []));
      return got.figures;
    },
    controller: () => benchController(shared(), { requests: opts.requests, workers: opts.workers, rounds: opts.controllerRounds, latencySamples: opts.latencySamples, log, ...(profileDir ? { profileDir } : {}) }),
    plugin: async () => {
      const got = await benchPlugin(shared(), {
        requests: opts.pluginRequests,
        runs: opts.pluginRuns,
        log,
        ...(compareWith?.plugin ? { compare: { label: compareWith.checkout.label, bin: compareWith.plugin } } : {}),
      });
      comparisons.push(...got.comparisons);
      return got.figures;
    },
    why: () => benchWhy(shared(), { policies: opts.whyPolicies, runs: opts.whyRuns, log }),
    dataplane: () => benchDataplane({ samples: opts.dataplaneSamples, log }),
    // Last (options.ts keeps the order): nothing runs after it, so its 10,000 requests may stay.
    memory: () => benchMemory(shared(), { requests: opts.memoryRequests, cleanup: false, log, ...(profileDir ? { profileDir } : {}) }),
  };
  for (const name of opts.only) {
    const t = Date.now();
    log(`\n== ${name} (load average ${load()})`);
    try {
      const got = await run[name]();
      figures.push(...got);
      log(`  done in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    } catch (err) {
      // One benchmark failing must not hide the others' numbers.
      failures.push(`${name}: ${(err as Error).stack ?? String(err)}`);
      log(`  FAILED: ${(err as Error).message}`);
    }
  }
} finally {
  await cp?.stop();
  compareWith?.checkout.remove();
}

log(`\nResults (${((Date.now() - began) / 60_000).toFixed(1)} min, load average at the end ${load()}):\n`);
log(formatTable(figures));
const targeted = figures.filter((f) => evaluate(f).met !== undefined);
log(`\n${targeted.length - missed(figures).length} of ${targeted.length} targets met.`);
const checkout = compareWith?.checkout;
if (checkout && comparisons.length > 0) {
  log(`\nREV ${checkout.label} against this tree (HEAD), same control plane, interleaved runs; /base: ratio to the baseline (no webhook; kubectl get):\n`);
  log(formatComparison(comparisons, `REV ${checkout.sha.slice(0, 7)}`));
}
if (opts.json) {
  const evaluated = figures.map((f) => ({ ...f, ...evaluate(f) }));
  // Without --compare, the list of figures as always; with it, the revision and its side-by-side figures too.
  const out = checkout ? { revision: { rev: checkout.rev, sha: checkout.sha }, figures: evaluated, comparisons } : evaluated;
  writeFileSync(opts.json, JSON.stringify(out, null, 2));
}
if (failures.length > 0) {
  process.stderr.write(`\n${failures.length} benchmark(s) failed:\n${failures.join('\n')}\n`);
  process.exitCode = 1;
}
