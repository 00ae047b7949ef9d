// Two kinds of failure: the user's (a bad flag, a forbidden action, an unreachable cluster) exit 1 with a
// one-line message and a hint; anything else is a bug in the plugin and exits 2 with the stack.
import { KubeError, NO_ANSWER } from '../../lib/kube/errors.ts';
import { inert } from '../../lib/text/inert.ts';

export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Turns what the API server said (or why it said nothing) into a UserError with a hint; other errors are returned unchanged. */
export function explain(err: unknown, what?: string): unknown {
  if (!(err instanceof KubeError)) return err;
  // No answer: the message names the server or the kubeconfig, whatever the command was doing.
  if (err.status === 0) {
    const hint =
      err.reason === NO_ANSWER.credentials ? 'check the user entry of the current context' : 'check the cluster entry of the current context (kubectl cluster-info)';
    return new UserError(err.message, hint);
  }
  const subject = what ? `${what}: ` : '';
  const message = `${subject}${oneLine(err.message)}`;
  switch (err.status) {
    case 401:
      return new UserError(message, 'your credentials were refused; log in again or check the kubeconfig user');
    case 403:
      return new UserError(message, 'you lack the RBAC for this; see what you may do with: kubectl netwatch can-i');
    case 404:
      return new UserError(message, 'list requests with: kubectl netwatch list');
    case 409:
      return new UserError(message, 'the request changed meanwhile; look at it again (kubectl netwatch describe NAME) and retry');
    case 400:
    case 422:
      return new UserError(message, 'fix the value named above and run the command again');
    default:
      return new UserError(message, err.status >= 500 ? 'the API server or an admission webhook failed; retry, or ask the cluster admin' : undefined);
  }
}

function oneLine(text: string): string {
  return inert(text.replace(/\s*\n\s*/g, ' '));
}

/**
 * Writes a failure the way every command reports it and returns the exit code: a UserError (or an API error,
 * explained) is one line and a hint, exit 1; anything else is a bug in the plugin, reported with its stack, exit 2.
 */
export function report(failure: unknown, stderr: NodeJS.WritableStream): 1 | 2 {
  const err = explain(failure);
  if (err instanceof UserError) {
    stderr.write(`error: ${err.message}\n`);
    if (err.hint) stderr.write(`hint: ${err.hint}\n`);
    return 1;
  }
  stderr.write(`internal error (a bug in kubectl-netwatch; please report it):\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 2;
}
