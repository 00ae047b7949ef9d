// Polling for end-to-end suites: the control plane is eventually consistent (informers, maxtac, the controller).

/** Resolves with the first truthy result of `check`; an exception counts as "not yet" and is reported on timeout. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`, { cause: last });
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
