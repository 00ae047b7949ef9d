// docs/configuration.md against the programs: each server's table lists exactly its flags, each with its
// environment variable(s), its default and its choices, and every deprecated name of the web UI is in the table of
// deprecated names and in the upgrade note of docs/install.md. A flag added, renamed or given another default
// without the documentation fails here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { envVarOf, inlineEnvVarOf, variablesOf, type Command } from '../lib/cli/flags.ts';
import { WEBHOOK_COMMAND } from '../webhook/options.ts';
import { CONTROLLER_COMMAND } from '../controller/options.ts';
import { NOTIFIER_COMMAND } from '../notifier/options.ts';
import { WEBUI_COMMAND } from '../webui/options.ts';

const doc = readFileSync(new URL('configuration.md', import.meta.url), 'utf8');
const install = readFileSync(new URL('install.md', import.meta.url), 'utf8');

/** The text under a heading, up to the next heading of the same or a higher level. */
function section(text: string, heading: string): string {
  const level = /^#+/.exec(heading)![0].length;
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `no heading ${heading}`);
  const rest = text.slice(start + heading.length + 2);
  const next = new RegExp(`^#{1,${level}} `, 'm').exec(rest);
  return next ? rest.slice(0, next.index) : rest;
}

/** The rows of the first table in `text` whose first header cell is `first`, as cells. */
function table(text: string, first: string): string[][] {
  const rows = text
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) => l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
  const header = rows.findIndex((r) => r[0] === first);
  assert.ok(header >= 0, `no table starting with "${first}"`);
  const out: string[][] = [];
  for (const r of rows.slice(header + 2)) {
    if (r.length !== rows[header]!.length) break;
    out.push(r);
  }
  return out;
}

const ticked = (cell: string) => [...cell.matchAll(/`([^`]*)`/g)].map((m) => m[1]!);

function checkServer(heading: string, command: Command): void {
  describe(`${heading}: the table of flags`, () => {
    const rows = table(section(doc, heading), 'flag').filter((r) => !ticked(r[0]!).includes('--help'));
    const byFlag = new Map(rows.map((r) => [ticked(r[0]!)[0] ?? r[0]!, r]));
    test('lists exactly the flags of the program', () =>
      assert.deepEqual([...byFlag.keys()].sort(), Object.keys(command.options).map((f) => `--${f}`).sort()));
    for (const [flag, option] of Object.entries(command.options)) {
      test(`--${flag}: its variables, default and choices`, () => {
        const [, envCell, defaultCell, meaning] = byFlag.get(`--${flag}`) ?? assert.fail(`--${flag} is not documented`);
        const names = ticked(envCell!);
        assert.ok(names.includes(envVarOf(command.envPrefix, flag)), `${envVarOf(command.envPrefix, flag)} in "${envCell}"`);
        if (option.inlineEnv) assert.ok(names.includes(inlineEnvVarOf(command.envPrefix, flag)), `${inlineEnvVarOf(command.envPrefix, flag)} in "${envCell}"`);
        for (const old of [...(option.deprecatedEnv ?? []), ...(option.deprecatedInlineEnv ?? [])]) assert.ok(names.includes(old), `${old} in "${envCell}"`);
        const documented = new Set([...names, ...variablesOf(command).map((v) => v.name)]);
        for (const name of names.filter((n) => /^[A-Z][A-Z0-9_]+$/.test(n))) assert.ok(documented.has(name), `${name} is not a variable of the program`);

        const dflt: unknown = option.default;
        if (dflt === undefined) {
          if (option.demandOption) assert.match(defaultCell!, /\*\*required\*\*/);
          // A secret may be required by its parser rather than by yargs (its file or its inline variable).
          else if (!option.inlineEnv) assert.doesNotMatch(defaultCell!, /\*\*required\*\*/);
        } else if (Array.isArray(dflt)) {
          if (dflt.length === 0) assert.match(defaultCell!, /\bnone\b/);
          for (const v of dflt) assert.ok(ticked(defaultCell!).includes(String(v)), `${String(v)} in "${defaultCell}"`);
        } else {
          const text = typeof dflt === 'string' || typeof dflt === 'number' || typeof dflt === 'boolean' ? String(dflt) : JSON.stringify(dflt);
          assert.ok(ticked(defaultCell!).includes(text), `default \`${text}\` in "${defaultCell}"`);
        }
        for (const choice of option.choices ?? []) assert.ok(ticked(meaning!).includes(String(choice)), `choice ${String(choice)} in "${meaning}"`);
      });
    }
  });
}

checkServer('## Admission webhook', WEBHOOK_COMMAND);
checkServer('## Controller', CONTROLLER_COMMAND);
checkServer('## Notifier', NOTIFIER_COMMAND);
checkServer('## Web UI', WEBUI_COMMAND);

describe('the deprecated names of the web UI', () => {
  const deprecated = variablesOf(WEBUI_COMMAND).filter((v) => v.deprecated);
  const rows = table(section(doc, '### Deprecated names of the web UI'), 'v0.1 variable');
  test('the table lists each with its replacement and flag, and nothing else', () => {
    assert.deepEqual(rows.map((r) => ticked(r[0]!)[0]).sort(), deprecated.map((v) => v.name).sort());
    for (const v of deprecated) {
      const row = rows.find((r) => ticked(r[0]!)[0] === v.name)!;
      assert.deepEqual(ticked(row[1]!), [v.replacement], v.name);
      assert.deepEqual(ticked(row[2]!), v.inline ? [] : [`--${v.flag}`], v.name);
    }
  });
  test('the upgrade note of docs/install.md names each with its replacement', () => {
    const note = section(install, '### Upgrading from v0.1: the web UI\'s settings');
    for (const v of deprecated) {
      assert.ok(
        note.split('\n').some((line) => line.includes(`\`${v.name}\``) && line.includes(`\`${v.replacement}\``)),
        `${v.name} → ${v.replacement}`,
      );
    }
  });
});
