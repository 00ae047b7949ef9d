// Regular expressions written by one user and run against another user's text (an AccessPolicy's reasonPattern,
// run by the webhook on every request it governs) must not be able to stall the process that runs them: one
// catastrophic pattern in a backtracking engine blocks the event loop, and a fail-closed webhook that stops
// answering stops every create and decision in the cluster. Shape checks miss too much (`((a+))+`, `a*a*a*…b` is
// polynomial of any degree), so such patterns run in V8's linear-time engine (the `l` flag, the same automaton
// idea as RE2), which refuses at compile time what it cannot run in linear time: back-references and lookahead.
// The engine reads no Unicode mode, so `\p{…}` and the `u` flag are not available.
import { setFlagsFromString } from 'node:v8';

let engineEnabled = false;

export type LinearRegExp = { ok: true; regexp: RegExp } | { ok: false; why: string };

/** `pattern` compiled for the linear-time engine, or why it cannot be. */
export function linearRegExp(pattern: string): LinearRegExp {
  if (!engineEnabled) {
    // Read by V8 when a RegExp with the `l` flag is compiled; setting it late is fine for this flag.
    setFlagsFromString('--enable-experimental-regexp-engine');
    engineEnabled = true;
  }
  try {
    // eslint-disable-next-line no-invalid-regexp -- `l` exists once the flag above is set
    return { ok: true, regexp: new RegExp(pattern, 'l') };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/linear time/.test(message)) return { ok: false, why: 'it cannot run in linear time: back-references and lookahead are not allowed' };
    return { ok: false, why: `not a regular expression (${message.replace(/^Invalid regular expression: /, '')})` };
  }
}
