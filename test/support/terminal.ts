// A real terminal for end-to-end suites: tmux on a socket of the test's own, a session per program, send-keys to
// type and capture-pane to read the screen (what a person at that terminal would see).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './wait.ts';

export class Tmux {
  constructor(readonly socket = `netwatch-e2e-${process.pid}`) {}

  run(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('tmux', ['-L', this.socket, ...args], { timeout: 10_000 }, (err, stdout, stderr) => (err ? reject(new Error(`tmux ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
    });
  }

  /**
   * Runs `command` with exactly `env` in a new 160×50 session NAME. The shell prints the exit code after the program
   * ends and keeps the pane open, so a test can see both.
   */
  async open(name: string, env: NodeJS.ProcessEnv, command: string[]): Promise<Terminal> {
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v ?? ''}`);
    const line = command.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    await this.run(['new-session', '-d', '-s', name, '-x', '160', '-y', '50', 'env', ...envArgs, 'sh', '-c', `${line}; echo "EXITED:$?"; sleep 600`]);
    return new Terminal(this, name);
  }

  /** Ends every session and removes the socket. */
  async stop(): Promise<void> {
    await this.run(['kill-server']).catch(() => undefined);
    rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
  }
}

export class Terminal {
  constructor(
    readonly tmux: Tmux,
    readonly name: string,
  ) {}

  screen(): Promise<string> {
    return this.tmux.run(['capture-pane', '-p', '-t', this.name]);
  }

  /** The pane with its escape sequences (what the terminal was asked to draw). */
  raw(): Promise<string> {
    return this.tmux.run(['capture-pane', '-p', '-e', '-t', this.name]);
  }

  /** Key names as tmux's send-keys reads them (`Down`, `Enter`, `BSpace`, `C-c`), one at a time. */
  async keys(...keys: string[]): Promise<void> {
    for (const k of keys) {
      await this.tmux.run(['send-keys', '-t', this.name, k]);
      await new Promise((r) => setTimeout(r, 60));
    }
  }

  async type(text: string): Promise<void> {
    await this.tmux.run(['send-keys', '-t', this.name, '-l', text]);
    await new Promise((r) => setTimeout(r, 60));
  }

  async waitFor(what: string | RegExp, timeoutMs = 30_000): Promise<string> {
    let last = '';
    try {
      return await waitFor(
        `${String(what)} on ${this.name}`,
        async () => {
          last = await this.screen();
          return (typeof what === 'string' ? last.includes(what) : what.test(last)) ? last : undefined;
        },
        timeoutMs,
        250,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- screen:\n${last}`, { cause: err });
    }
  }

  /** Moves the hub's selection (›) to the request NAME, trying downwards first, then upwards. */
  async select(name: string): Promise<string> {
    const selected = new RegExp(`› ${name}\\b`);
    let screen = await this.screen();
    for (const key of ['Down', 'Up']) {
      for (let i = 0; i < 8 && !selected.test(screen); i++) {
        await this.keys(key);
        screen = await this.screen();
      }
    }
    assert.match(screen, selected);
    return screen;
  }

  async title(): Promise<string> {
    return (await this.tmux.run(['display-message', '-p', '-t', this.name, '#{pane_title}'])).trim();
  }

  async close(): Promise<void> {
    await this.tmux.run(['kill-session', '-t', this.name]).catch(() => undefined);
  }
}
