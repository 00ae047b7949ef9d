// A minimal keep-alive HTTPS client for benchmarks: the same client measures the baseline and netwatch, so the
// ratios compare API server work, not client overhead.
import { Agent, request } from 'node:https';
import type { ControlPlane } from '../controlplane.ts';

export interface BenchClient {
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: string }>;
  close(): void;
}

/** `user` is a token-file user name, or 'admin-cert' for the admin client certificate. */
export function benchClient(cp: ControlPlane, user: string, maxSockets = 256): BenchClient {
  const url = new URL(cp.server);
  const auth: Record<string, string> = {};
  let agent: Agent;
  if (user === 'admin-cert') {
    const kc = cp.admin.getCurrentUser();
    agent = new Agent({
      keepAlive: true,
      maxSockets,
      ca: cp.caPem,
      cert: Buffer.from(kc?.certData ?? '', 'base64'),
      key: Buffer.from(kc?.keyData ?? '', 'base64'),
    });
  } else {
    agent = new Agent({ keepAlive: true, maxSockets, ca: cp.caPem });
    auth.authorization = `Bearer ${cp.users[user]?.token ?? ''}`;
  }
  return {
    call(method, path, body, contentType = 'application/json') {
      return new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path,
            method,
            agent,
            headers: { ...auth, accept: 'application/json', ...(payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        if (payload) req.write(payload);
        req.end();
      });
    },
    close: () => agent.destroy(),
  };
}

/** Runs `count` tasks with at most `concurrency` in flight; returns each task's latency in ms. */
export async function runConcurrently(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number[]> {
  const latencies: number[] = new Array<number>(count);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const t0 = performance.now();
      await task(i);
      latencies[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return latencies;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? NaN;
}

export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
