// Builds the krew release of `kubectl netwatch`: the archive kubectl-netwatch-v<version>.tar.gz (the same files
// as the npm package: bundle, bin script, completion helper, LICENSE, README, package.json) and netwatch.yaml,
// filled from netwatch.template.yaml with the archive's real sha256. Upload the archive to the GitHub release
// v<version>, then submit netwatch.yaml to the krew index (or: kubectl krew install --manifest=netwatch.yaml
// --archive=kubectl-netwatch-v<version>.tar.gz to try it locally).
// Run: node --import tsx plugin/krew/build.ts [--out DIR] [--repository OWNER/NAME]
//   DIR defaults to plugin/dist/release (git-ignored); OWNER/NAME to the repository in plugin/package.json, or
//   $NETWATCH_RELEASE_REPOSITORY.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { EXECUTABLES, PACKAGE_FILES, RELEASE_DIR, githubRepository, stagePlugin } from '../pack.ts';

const TEMPLATE = fileURLToPath(new URL('netwatch.template.yaml', import.meta.url));

// Fixed metadata (owner 0, one timestamp) so that the same files give the same archive and sha256 wherever
// and whenever it is built: a rebuilt release must not invalidate a published manifest. SOURCE_DATE_EPOCH is
// the reproducible-builds convention for choosing the timestamp.
const DEFAULT_MTIME = Date.UTC(2000, 0, 1) / 1000;

interface Entry {
  path: string;
  mode: number;
  /** Absent for directories. */
  data?: Buffer;
}

function octal(value: number, width: number): string {
  // width - 1 octal digits and a NUL, as ustar numeric fields are.
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header block. Names here are short, so the 100-byte name field is enough (no prefix, no PAX). */
function header(entry: Entry, mtime: number): Buffer {
  const name = entry.data ? entry.path : `${entry.path}/`;
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name too long: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(entry.mode, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii'); // uid
  h.write(octal(0, 8), 116, 8, 'ascii'); // gid
  h.write(octal(entry.data?.length ?? 0, 12), 124, 12, 'ascii');
  h.write(octal(mtime, 12), 136, 12, 'ascii');
  h.write(' '.repeat(8), 148, 8, 'ascii'); // the checksum counts its own field as spaces
  h.write(entry.data ? '0' : '5', 156, 1, 'ascii'); // regular file | directory
  h.write('ustar\0' + '00', 257, 8, 'ascii');
  h.write('root', 265, 32, 'ascii'); // uname
  h.write('root', 297, 32, 'ascii'); // gname
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

/** A gzipped ustar archive of `entries`, in the given order. */
export function tarGz(entries: Entry[], mtime: number): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    blocks.push(header(e, mtime));
    if (e.data) {
      blocks.push(e.data);
      const pad = (512 - (e.data.length % 512)) % 512;
      if (pad) blocks.push(Buffer.alloc(pad));
    }
  }
  blocks.push(Buffer.alloc(1024)); // two zero blocks end the archive
  const gz = gzipSync(Buffer.concat(blocks), { level: 9 });
  // The gzip header's OS byte is whatever zlib was built for (macOS and Linux differ): pin it to Unix so the
  // archive, and so the sha256, does not depend on the machine that built it.
  gz[9] = 3;
  return gz;
}

export interface KrewRelease {
  archive: string;
  manifest: string;
  sha256: string;
  version: string;
  repository: string;
  /** Archive entries, in order; directories end with '/'. */
  entries: string[];
}

export async function buildKrewRelease(opts: { outDir?: string; repository?: string } = {}): Promise<KrewRelease> {
  const outDir = resolve(opts.outDir ?? RELEASE_DIR);
  const stage = await mkdtemp(join(tmpdir(), 'kubectl-netwatch-krew-'));
  try {
    const manifest = await stagePlugin(stage);
    const repository = opts.repository ?? (process.env.NETWATCH_RELEASE_REPOSITORY || githubRepository(manifest));
    if (!/^[\w.-]+\/[\w.-]+$/.test(repository)) throw new Error(`--repository must be OWNER/NAME, not ${JSON.stringify(repository)}`);
    const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? DEFAULT_MTIME);
    if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`SOURCE_DATE_EPOCH must be a number of seconds, not ${process.env.SOURCE_DATE_EPOCH}`);

    // Directories first, then files sorted by path: a stable order for a stable archive.
    const files = [...PACKAGE_FILES].sort();
    const dirs = [...new Set(files.filter((f) => f.includes('/')).map((f) => f.slice(0, f.lastIndexOf('/'))))].sort();
    const entries: Entry[] = [
      ...dirs.map((path) => ({ path, mode: 0o755 })),
      ...(await Promise.all(
        files.map(async (path) => {
          const data = await readFile(join(stage, path));
          // Modes are set, not copied: the checkout's umask must not leak into the release.
          return { path, data, mode: EXECUTABLES.includes(path) ? 0o755 : 0o644 };
        }),
      )),
    ];
    const archiveBytes = tarGz(entries, epoch);
    const sha256 = createHash('sha256').update(archiveBytes).digest('hex');

    const filled = fillTemplate(await readFile(TEMPLATE, 'utf8'), { version: manifest.version, repository, sha256 });
    await mkdir(outDir, { recursive: true });
    const archive = join(outDir, `kubectl-netwatch-v${manifest.version}.tar.gz`);
    const manifestPath = join(outDir, 'netwatch.yaml');
    await writeFile(archive, archiveBytes);
    await writeFile(manifestPath, filled);
    return {
      archive,
      manifest: manifestPath,
      sha256,
      version: manifest.version,
      repository,
      entries: entries.map((e) => (e.data ? e.path : `${e.path}/`)),
    };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** Replaces every {{marker}}; an unknown or leftover marker is an error, never a silently broken manifest. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  const lines = template.split('\n');
  const firstLine = lines.findIndex((l) => !l.startsWith('#'));
  const body = lines.slice(firstLine).join('\n');
  const out = body.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`netwatch.template.yaml: no value for {{${key}}}`);
    return v;
  });
  if (out.includes('{{')) throw new Error('netwatch.template.yaml: a marker was left unfilled');
  return `# Generated by plugin/krew/build.ts from plugin/krew/netwatch.template.yaml; do not edit.\n${out}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const flag = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const out = flag('--out');
  const release = await buildKrewRelease({ outDir: out ? resolve(out) : RELEASE_DIR, repository: flag('--repository') });
  const size = (await stat(release.archive)).size;
  process.stdout.write(`${release.archive} (${size} bytes, sha256 ${release.sha256})\n${release.manifest}\n`);
}
