import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { webhookConfigurationsOf } from '../deploy.ts';
import { webhookConfigurations } from '../../webhook/configurations.ts';
import { WEBHOOK_COMMAND } from '../../webhook/options.ts';
import { checkoutRevision, dependencyPlan, missingFiles, needsOf, PLUGIN_NEEDS, unknownFlags, WEBHOOK_NEEDS } from './revision.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('bench --compare: what a revision needs', () => {
  it('names every file a revision lacks to run its webhook, in order', () => {
    assert.deepEqual(missingFiles(new Set(WEBHOOK_NEEDS)), []);
    const without = new Set<string>(WEBHOOK_NEEDS.filter((f) => f !== 'webhook/main.ts' && f !== 'manifests/webhook/webhooks.yaml'));
    assert.deepEqual(missingFiles(without), ['webhook/main.ts', 'manifests/webhook/webhooks.yaml']);
    assert.deepEqual(missingFiles(new Set(['README.md']), ['webhook/main.ts']), ['webhook/main.ts']);
  });

  it('needs what each compared benchmark runs of the revision, each path once', () => {
    assert.deepEqual(needsOf(['webhook']), [...WEBHOOK_NEEDS]);
    assert.deepEqual(needsOf(['plugin']), [...PLUGIN_NEEDS]);
    const both = needsOf(['webhook', 'plugin']);
    assert.equal(both.filter((f) => f === 'package-lock.json').length, 1);
    assert.ok(both.includes('plugin/build.ts') && both.includes('webhook/main.ts'));
    assert.deepEqual(needsOf(['controller']), []);
  });

  it('shares node_modules only when the lock files are the same', () => {
    assert.equal(dependencyPlan('{"a":1}\n', '{"a":1}\n'), 'share');
    assert.equal(dependencyPlan('{"a":1}\n', '{"a":2}\n'), 'install');
  });

  it("leaves out the benchmark's flags an older webhook does not have", () => {
    const older = { options: { port: { type: 'string' as const }, 'log-level': { type: 'string' as const } } };
    assert.deepEqual(unknownFlags({ port: '1', 'log-level': 'warn', 'answer-ttl': '0s' }, older), ['answer-ttl']);
    assert.deepEqual(unknownFlags({ 'log-level': 'warn', 'max-open-requests': '1', 'answer-ttl': '0s' }, WEBHOOK_COMMAND), []);
  });

  it('refuses a revision that is not a commit, naming it, before checking anything out', () => {
    assert.throws(() => checkoutRevision('no-such-revision-0123', WEBHOOK_NEEDS, () => undefined), /--compare: "no-such-revision-0123" is not a commit of this repository/);
  });

  it("registers a revision's webhooks from its manifests as this tree registers its own", () => {
    const caBundle = Buffer.from('ca').toString('base64');
    const url = 'https://127.0.0.1:9443';
    const fromManifest = webhookConfigurationsOf(REPO, url, caBundle);
    const fromCode = webhookConfigurations((path) => ({ url: `${url}${path}`, caBundle }));
    const hooks = (objects: readonly unknown[]) =>
      objects.map((o) => {
        const c = o as { kind?: string; metadata?: { name?: string }; webhooks?: { name: string; clientConfig: unknown; rules: unknown }[] };
        return { kind: c.kind, name: c.metadata?.name, webhooks: c.webhooks?.map((h) => ({ name: h.name, clientConfig: h.clientConfig, rules: h.rules })) };
      });
    const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    assert.deepEqual(plain(hooks(fromManifest)), plain(hooks(fromCode)));
    assert.match(JSON.stringify(fromManifest), /"url":"https:\/\/127\.0\.0\.1:9443\/mutate/);
  });
});
