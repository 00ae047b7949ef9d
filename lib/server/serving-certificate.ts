// The serving certificate of a component's HTTPS listener (webhook, web UI), read from files and read again when
// they change: cert-manager renews the Secret and the kubelet swaps the mounted files in place, and the listener
// takes the new pair without a restart. main.ts calls these; app.ts only receives the PEM text.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';

export interface ServingFiles {
  certFile: string;
  keyFile: string;
  /** CA bundle for client certificates (the webhook's mutual TLS), when the listener asks for one. */
  clientCaFile?: string | undefined;
}

export interface ServingPems {
  cert: string;
  key: string;
  clientCa?: string;
}

export function readServingFiles(files: ServingFiles, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): ServingPems {
  return {
    cert: read(files.certFile),
    key: read(files.keyFile),
    ...(files.clientCaFile ? { clientCa: read(files.clientCaFile) } : {}),
  };
}

/** What node:tls, node:https and node:http2 secure servers have. */
export interface Reloadable {
  setSecureContext(options: SecureContextOptions): void;
}

export interface ReloadLog {
  info(msg: string): void;
  error(obj: { err: string }, msg: string): void;
}

/**
 * Polls the files (every 30 s by default: a mounted Secret is a symlink swap, which inotify on the file itself
 * misses) and loads a changed set into `server`. A set that fails to load (a key that does not match its
 * certificate, read half-way through a swap) is logged and the previous one kept; the next change retries.
 * Returns a function that stops watching.
 */
export function reloadWhenChanged(server: Reloadable, files: ServingFiles, log: ReloadLog, opts: { intervalMs?: number } = {}): () => void {
  const reload = () => {
    try {
      const { cert, key, clientCa } = readServingFiles(files);
      server.setSecureContext({ cert, key, ...(clientCa ? { ca: clientCa } : {}) });
      log.info('serving certificate reloaded');
    } catch (err) {
      log.error({ err: (err as Error).message }, 'could not reload the serving certificate; keeping the previous one');
    }
  };
  const paths = [files.certFile, files.keyFile, ...(files.clientCaFile ? [files.clientCaFile] : [])];
  for (const path of paths) watchFile(path, { interval: opts.intervalMs ?? 30_000, persistent: false }, reload);
  return () => {
    for (const path of paths) unwatchFile(path, reload);
  };
}
