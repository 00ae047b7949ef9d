// `list -o json` with no filter: every request the user may list, printed as kubectl prints a List. Scripts run it
// often, so main.ts takes this path without the command-line parser or the rest of the CLI (fast-path.ts decides
// when); the CLI's own `list` calls printListJson for the same case, so both print the same bytes.
import { explain, report } from './errors.ts';
import type { KubeOptions } from './services/kube.ts';
import type { ClusterPort } from './services/port.ts';

interface RawLister {
  listRequestsRaw(): Promise<string>;
}

/** As kubectl prints objects by default: without metadata.managedFields (server-side apply bookkeeping). */
export function forPrinting<T>(object: T): T {
  const metadata = (object as { metadata?: Record<string, unknown> } | null)?.metadata;
  if (!metadata || !('managedFields' in metadata)) return object;
  const { managedFields: _, ...rest } = metadata;
  return { ...object, metadata: rest };
}

/** Items as kubectl prints a list of them (`-o json`, `-o yaml`): a v1 List, each item without managedFields. */
export function printedList(items: readonly unknown[]): { apiVersion: 'v1'; kind: 'List'; items: unknown[]; metadata: { resourceVersion: '' } } {
  return { apiVersion: 'v1', kind: 'List', items: items.map(forPrinting), metadata: { resourceVersion: '' } };
}

/** Writes `text` and resolves once the stream has taken it (the CLI's print and the fast path share it). */
export function writeOut(stdout: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise<void>((resolve, reject) => stdout.write(text, (err) => (err ? reject(err) : resolve())));
}

export async function printListJson(port: Pick<ClusterPort, 'listRequests'>, stdout: NodeJS.WritableStream): Promise<void> {
  let items: unknown[];
  try {
    // The API server's bytes when the port offers them: no typed list is built for items printed as they are.
    items = 'listRequestsRaw' in port ? ((JSON.parse(await (port as RawLister).listRequestsRaw()) as { items?: unknown[] }).items ?? []) : (await port.listRequests()).items;
  } catch (err) {
    throw explain(err, 'listing access requests');
  }
  await writeOut(stdout, JSON.stringify(printedList(items), null, 4) + '\n');
}

/**
 * The whole command for the fast path: the user's kubeconfig, the list, and errors reported as the CLI does; its
 * exit code, or 'cli' when the kubeconfig needs what only the full CLI bundles (KubePort.usesRareClientParts).
 */
export async function runListJson(opts: KubeOptions, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number | 'cli'> {
  try {
    const { KubePort } = await import('./services/kube.ts');
    const port = KubePort.fromOptions(opts);
    if (port.usesRareClientParts()) return 'cli';
    await printListJson(port, io.stdout);
    return 0;
  } catch (err) {
    return report(err, io.stderr);
  }
}
