// Opens the interactive view on the user's terminal and resolves when it closes (q or Ctrl-C). It runs on the
// alternate screen, like other full-screen terminal tools, so the user's scrollback is untouched and restored on
// exit; on resize the screen is cleared and redrawn, so a shrinking window leaves no stale lines behind.
import { render } from 'ink';
import type { ClusterPort } from '../services/port.ts';
import { App } from './app.tsx';

export interface TuiOptions {
  port: ClusterPort;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  namespace?: string | undefined;
  /** The cluster's own ranges (--cluster-cidr), for the preview's risk classes. */
  clusterCidrs?: readonly string[] | undefined;
}

const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H';
const LEAVE_ALT_SCREEN = '\x1b[?1049l';
const CLEAR = '\x1b[2J\x1b[H';

export async function openTui(opts: TuiOptions): Promise<void> {
  const stdout = opts.stdout as NodeJS.WriteStream;
  stdout.write(ENTER_ALT_SCREEN);
  const instance = render(<App port={opts.port} namespace={opts.namespace} clusterCidrs={opts.clusterCidrs} />, {
    stdin: opts.stdin as NodeJS.ReadStream,
    stdout,
    exitOnCtrlC: true,
    patchConsole: false,
  });
  const onResize = () => {
    stdout.write(CLEAR);
    instance.clear();
  };
  stdout.on('resize', onResize);
  try {
    await instance.waitUntilExit();
  } finally {
    stdout.off('resize', onResize);
    stdout.write(LEAVE_ALT_SCREEN);
  }
}
