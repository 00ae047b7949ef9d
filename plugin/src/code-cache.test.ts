// The code cache of the bundle's parts (code-cache.ts). Loading runs in child processes, because a cache is
// written when a process exits.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { CACHED_COMMANDS, PART_PARAMETERS, cliVariant, codeCacheDir, partSource } from './code-cache.ts';
import { run } from './cli.ts';
import { FakePort } from '../../test/support/fake-plugin-port.ts';
import { captured } from '../../test/support/streams.ts';

const CODE_CACHE = fileURLToPath(new URL('./code-cache.ts', import.meta.url));

describe('which cache a command line uses', () => {
  for (const [argv, variant] of [
    [[], 'tui'],
    [['-A'], 'tui'],
    [['--context', 'prod'], 'tui'],
    [['list'], 'list'],
    [['ls', '-o', 'json'], 'list'],
    [['-n', 'team-a', 'get'], 'list'],
    [['--kubeconfig', '/k', 'describe', 'x'], 'describe'],
    [['--namespace=team-a', 'approve', 'x'], 'approve'],
    [['--cluster-cidr', '10.96.0.0/12', 'describe', 'x'], 'describe'],
    [['can-i'], 'can-i'],
    [['--help'], 'other'],
    [['lsit'], 'other'],
    [['constructor'], 'other'],
  ] as const) {
    test(`${JSON.stringify(argv)} → ${variant}`, () => assert.equal(cliVariant(argv), variant));
  }

  test('every command of the CLI has its own cache', async () => {
    const io = captured();
    const code = await run(['--help'], { stdout: io.stdout, stderr: io.stderr, stdin: new PassThrough(), makePort: () => new FakePort() });
    assert.equal(code, 0, io.err());
    const commands = [...io.out().matchAll(/^ {2}kubectl netwatch ([a-z-]+)/gm)].map((m) => m[1] ?? '');
    assert.ok(commands.length >= 10, io.out());
    for (const c of commands) assert.ok(CACHED_COMMANDS.includes(c), `${c} is missing from code-cache.ts COMMANDS`);
  });
});

describe('where caches are kept', () => {
  test('under $XDG_CACHE_HOME, else ~/.cache; nowhere when NODE_DISABLE_COMPILE_CACHE is set', () => {
    assert.equal(codeCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' }), join('/x', 'kubectl-netwatch'));
    assert.equal(codeCacheDir({ HOME: '/h' }), join('/h', '.cache', 'kubectl-netwatch'));
    assert.equal(codeCacheDir({ HOME: '/h', NODE_DISABLE_COMPILE_CACHE: '1' }), undefined);
    assert.equal(codeCacheDir({}), undefined);
  });
});

/** A part file as plugin/build.ts writes one, around `body` (an ES module body that hands over its exports). */
function writePart(file: string, id: string, body: string): void {
  writeFileSync(file, partSource(id, body));
}

const PART_BODY = `
const { sep } = require('node:path');
const words = await Promise.resolve(['cached', 'part']);
function greet(who) { return words.join(' ') + ' greets ' + who + (sep ? '' : '?'); }
${PART_PARAMETERS[0]}({ greet, url: ${PART_PARAMETERS[2]} });`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A process that loads `part` with the cache in `dir` (none: no cache), prints greet('you') and the part's URL. */
async function loadInChild(work: string, part: string, dir: string | undefined): Promise<Run> {
  const driver = join(work, 'driver.mts');
  writeFileSync(
    driver,
    `import { configureCodeCache, loadPart } from ${JSON.stringify(CODE_CACHE)};
     import { pathToFileURL } from 'node:url';
     configureCodeCache({ dir: ${JSON.stringify(dir)}, variant: 'list' });
     try {
       const part = await loadPart(pathToFileURL(${JSON.stringify(part)}), 'test');
       console.log(part.greet('you'), part.url);
     } catch (err) {
       console.log('error', err.code, err.message);
     }`,
  );
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', driver], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 99, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('loading a part through the cache', () => {
  let work = '';
  beforeEach(() => (work = mkdtempSync(join(tmpdir(), 'netwatch-code-cache-'))));
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  test('the first run writes a cache only the user can read; later runs use it as is; others\' files are not trusted; a new build replaces it', async () => {
    const part = join(work, 'part.js');
    const dir = join(work, 'cache');
    writePart(part, 'a'.repeat(32), PART_BODY);
    const expected = `cached part greets you file://${part}\n`;

    const first = await loadInChild(work, part, dir);
    assert.equal(first.stdout, expected, first.stderr);
    const [cacheName, ...others] = readdirSync(dir);
    assert.deepEqual(others, []);
    assert.match(cacheName ?? '', new RegExp(`^test-list-a{16}-${process.version.replaceAll('.', '\\.')}-${process.arch}\\.v8$`));
    const cacheFile = join(dir, cacheName ?? '');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(cacheFile).mode & 0o777, 0o600);
    const written = readFileSync(cacheFile);

    // Accepted by V8: not written again.
    const stamp = statSync(cacheFile).mtimeMs;
    const second = await loadInChild(work, part, dir);
    assert.equal(second.stdout, expected, second.stderr);
    assert.equal(statSync(cacheFile).mtimeMs, stamp);
    assert.deepEqual(readFileSync(cacheFile), written);

    // Garbage is rejected by V8 and replaced; the part still runs.
    writeFileSync(cacheFile, Buffer.alloc(written.length, 7), { mode: 0o600 });
    const third = await loadInChild(work, part, dir);
    assert.equal(third.stdout, expected, third.stderr);
    assert.notDeepEqual(readFileSync(cacheFile), Buffer.alloc(written.length, 7));

    // A cache others may write is not trusted: not read, and replaced by one they may not.
    chmodSync(cacheFile, 0o666);
    const fourth = await loadInChild(work, part, dir);
    assert.equal(fourth.stdout, expected, fourth.stderr);
    assert.equal(statSync(cacheFile).mode & 0o777, 0o600);

    // Nor is a directory others may write: nothing read from it or written to it.
    chmodSync(dir, 0o777);
    writeFileSync(cacheFile, 'planted', { mode: 0o600 });
    const planted = await loadInChild(work, part, dir);
    assert.equal(planted.stdout, expected, planted.stderr);
    assert.equal(readFileSync(cacheFile, 'utf8'), 'planted');
    assert.deepEqual(readdirSync(dir), [cacheName]);
    chmodSync(dir, 0o700);

    // Another build of the part (another id): its own cache, and the old one is removed.
    writePart(part, 'b'.repeat(32), PART_BODY.replace('greets', 'welcomes'));
    const fifth = await loadInChild(work, part, dir);
    assert.equal(fifth.stdout, expected.replace('greets', 'welcomes'), fifth.stderr);
    assert.deepEqual(readdirSync(dir).map((f) => f.slice(0, 'test-list-'.length + 16)), [`test-list-${'b'.repeat(16)}`]);

    // Another Node version's cache of this build stays (switching between two keeps one of each); a write a crash
    // left behind goes when the cache is next written.
    const [current] = readdirSync(dir);
    const otherNode = `test-list-${'b'.repeat(16)}-v0.0.0-${process.arch}.v8`;
    const leftover = `${current ?? ''}.12345.tmp`;
    writeFileSync(join(dir, otherNode), 'other node', { mode: 0o600 });
    writeFileSync(join(dir, leftover), 'half', { mode: 0o600 });
    writeFileSync(join(dir, current ?? ''), 'rejected', { mode: 0o600 });
    const sixth = await loadInChild(work, part, dir);
    assert.equal(sixth.stdout, expected.replace('greets', 'welcomes'), sixth.stderr);
    assert.deepEqual(readdirSync(dir).sort(), [current, otherNode].sort());
  });

  test('without a cache directory, or one that cannot be written, the part runs and nothing is written', async () => {
    const part = join(work, 'part.js');
    writePart(part, 'c'.repeat(32), PART_BODY);
    const expected = `cached part greets you file://${part}\n`;
    const none = await loadInChild(work, part, undefined);
    assert.equal(none.stdout, expected, none.stderr);
    assert.deepEqual(readdirSync(work).sort(), ['driver.mts', 'part.js']);

    // A file where the directory should be: mkdir fails, quietly.
    const blocked = join(work, 'blocked');
    writeFileSync(blocked, '');
    const unwritable = await loadInChild(work, part, join(blocked, 'cache'));
    assert.equal(unwritable.code, 0);
    assert.equal(unwritable.stdout, expected, unwritable.stderr);
    assert.equal(unwritable.stderr, '');
  });

  test('a part without an id header runs without a cache; a missing part fails as a missing module', async () => {
    const part = join(work, 'part.js');
    const dir = join(work, 'cache');
    writeFileSync(part, `(async function (${PART_PARAMETERS.join(', ')}) {\n${PART_BODY}\n})\n`);
    const r = await loadInChild(work, part, dir);
    assert.equal(r.stdout, `cached part greets you file://${part}\n`, r.stderr);
    assert.equal(existsSync(dir), false);

    mkdirSync(dir);
    const missing = await loadInChild(work, join(work, 'gone.js'), dir);
    assert.match(missing.stdout, /^error ERR_MODULE_NOT_FOUND Cannot find module '.*gone\.js'/);
    assert.deepEqual(readdirSync(dir), []);
  });
});
