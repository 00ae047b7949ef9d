// An Io pair for tests: stdout and stderr streams whose text is collected as it is written.
import { PassThrough } from 'node:stream';

export interface Captured {
  stdout: PassThrough;
  stderr: PassThrough;
  out(): string;
  err(): string;
}

export function captured(): Captured {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { stdout, stderr, out: () => out, err: () => err };
}
