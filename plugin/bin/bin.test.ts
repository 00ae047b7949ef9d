// The two files installed as commands (npm's bin folder, krew's bin folder), run the way kubectl runs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const BIN = fileURLToPath(new URL('.', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

test('the completion helper finds kubectl-netwatch.js through a chain of symlinks without readlink -f (macOS before 12.3)', async () => {
  const work = mkdtempSync(join(tmpdir(), 'netwatch-complete-'));
  try {
    // A readlink without -f, like the BSD one of older macOS; plain `readlink LINK` still works.
    const realReadlink = execFileSync('sh', ['-c', 'command -v readlink'], { encoding: 'utf8' }).trim();
    const fakeBin = join(work, 'fake-bin');
    mkdirSync(fakeBin);
    writeFileSync(
      join(fakeBin, 'readlink'),
      `#!/bin/sh\ncase "$1" in -*) echo "readlink: illegal option -- \${1#-}" >&2; exit 1 ;; esac\nexec ${realReadlink} "$@"\n`,
      { mode: 0o755 },
    );
    // bin/ -> (relative) ../store/helper -> (absolute) the real file, as krew's and npm's links nest.
    mkdirSync(join(work, 'bin'));
    mkdirSync(join(work, 'store'));
    symlinkSync(join(BIN, 'kubectl_complete-netwatch'), join(work, 'store', 'helper'));
    symlinkSync('../store/helper', join(work, 'bin', 'kubectl_complete-netwatch'));

    const env = { ...process.env, PATH: [fakeBin, dirname(process.execPath), process.env.PATH].join(delimiter) };
    const { stdout } = await promisify(execFile)(join(work, 'bin', 'kubectl_complete-netwatch'), ['de'], { cwd: work, env, timeout: 60_000 });
    const lines = stdout.trim().split('\n');
    assert.ok(lines.includes('describe'), stdout);
    assert.equal(lines.at(-1), ':4');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('every repository file the bin scripts name exists', () => {
  for (const file of ['kubectl-netwatch.js', 'kubectl_complete-netwatch']) {
    const text = readFileSync(join(BIN, file), 'utf8');
    // plugin/dist/ is build output, absent from a fresh checkout.
    const named = [...text.matchAll(/\bplugin\/[\w./-]+\.(?:ts|js)\b/g)].map((m) => m[0]);
    for (const path of named) assert.ok(existsSync(join(REPO, path)), `${file} names ${path}, which does not exist`);
  }
});

test('the README shows a krew install that works before a GitHub release exists', () => {
  const readme = readFileSync(join(BIN, '..', 'README.md'), 'utf8');
  assert.match(readme, /kubectl krew install --manifest=\S*netwatch\.yaml \\\n\s+--archive=\S*kubectl-netwatch-v<version>\.tar\.gz/);
});
