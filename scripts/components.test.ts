// The command lines the sandbox and the benchmarks start components with: the Deployment's, with the launcher's
// flags and a user's flags on top, checked by each component's own parser.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../lib/cli/flags.ts';
import { parseControllerArgs } from '../controller/options.ts';
import { parseWebUiArgs } from '../webui/options.ts';
import { checkComponentFlags, commandLine, deployed, flagsOf } from './components.ts';
import { CONTROLLER_COMMAND } from '../controller/options.ts';
import { splitCommandLine } from './sandbox.ts';

const idp = { issuer: 'https://127.0.0.1:1', caFile: '/ca.crt', clientId: 'c', usernameClaim: 'sub', usernamePrefix: '-', groupsClaim: 'groups', groupsPrefix: '' };

describe('the Deployments as the launcher reads them', () => {
  test("each component's args and environment come from its manifest, after the bundle", () => {
    assert.ok(deployed('controller').args.includes('--isolation=skip'));
    assert.ok(deployed('webhook').args.includes('--max-duration=24h'));
    assert.deepEqual(deployed('webui').args, []);
    assert.ok(deployed('webui').env.some((e) => e.name === 'NETWATCH_WEBUI_PUBLIC_URL'));
    assert.deepEqual(deployed('controller').nodeFlags, ['--enable-source-maps']);
  });
  test("the controller's NODE_OPTIONS and Pod name reach its environment", () => {
    const { env } = commandLine('controller', { fieldRefs: { 'metadata.name': 'pod-1' } });
    assert.equal(env['NODE_OPTIONS'], deployed('controller').env.find((e) => e.name === 'NODE_OPTIONS')?.value);
    assert.equal(env['POD_NAME'], 'pod-1');
  });
  test('a downward-API field the launcher does not provide is an error, not an empty variable', () =>
    assert.throws(() => commandLine('controller', {}), /env POD_NAME reads metadata\.name that the launcher does not provide/));
});

describe('commandLine', () => {
  const fieldRefs = { 'metadata.name': 'p' };
  test("a user's flag replaces the Deployment's, in every form a shell passes it", () => {
    for (const extra of [['--isolation=refuse'], ['--isolation', 'refuse']]) {
      const { args } = commandLine('controller', { extra, fieldRefs });
      assert.equal(args.filter((a) => a.startsWith('--isolation')).length, 1, args.join(' '));
      const parsed = parseControllerArgs(args, {});
      assert.equal(parsed.kind === 'run' && parsed.options.isolation, 'refuse');
    }
  });
  test("the launcher's flags replace the Deployment's, and undefined removes a flag and its variables", () => {
    const { args, env } = commandLine('webui', {
      set: { port: '9443', 'oidc-client-secret-file': undefined, 'oidc-issuer-url': 'https://idp.test' },
      fieldRefs,
    });
    assert.deepEqual(args, ['--port=9443', '--oidc-issuer-url=https://idp.test']);
    assert.equal(env['NETWATCH_WEBUI_OIDC_CLIENT_SECRET_FILE'], undefined);
    assert.equal(env['NETWATCH_WEBUI_PORT'], undefined);
    assert.equal(env['NETWATCH_WEBUI_OIDC_ISSUER_URL'], undefined);
    assert.equal(env['NETWATCH_WEBUI_DURATIONS'], deployed('webui').env.find((e) => e.name === 'NETWATCH_WEBUI_DURATIONS')?.value);
  });
  test('booleans and repeatable flags are written as their parser reads them', () => {
    const { args } = commandLine('webhook', { set: { 'allow-unlimited': true, 'default-cidr-deny': false, 'cluster-cidr': ['10.0.0.0/8', '10.96.0.0/12'] } });
    for (const a of ['--allow-unlimited', '--no-default-cidr-deny', '--cluster-cidr=10.0.0.0/8', '--cluster-cidr=10.96.0.0/12']) assert.ok(args.includes(a), a);
  });
  test("a user's flag may not change one the launcher sets", () =>
    assert.throws(
      () => commandLine('controller', { set: { listen: '127.0.0.1:1' }, extra: ['--listen=:8080'], fieldRefs }),
      (err: unknown) => err instanceof UsageError && /^--listen: set by the sandbox to tie the controller to its control plane \(it sets --listen\)$/.test(err.message),
    ));
  test('a bare word is not a flag', () => assert.throws(() => flagsOf(['refuse'], CONTROLLER_COMMAND.options), /"refuse" is not a flag: write --name=value/));
});

describe("checkComponentFlags: the sandbox's check before anything starts", () => {
  test('the Deployments with the launcher flags pass every parser', () => assert.equal(checkComponentFlags({}, idp), undefined));
  test("a component's mistake is reported under its name, by its own parser", () => {
    assert.throws(() => checkComponentFlags({ controller: ['--isolation=sometimes'] }, idp), /^UsageError: controller: Invalid values:[\s\S]*isolation/);
    assert.throws(() => checkComponentFlags({ webhook: ['--max-duration=7d'] }, idp), /^UsageError: webhook: --max-duration: must be a positive duration/);
    assert.throws(() => checkComponentFlags({ webui: ['--durations=1d'] }, idp), /^UsageError: webui: --durations: must be a comma-separated list of durations/);
    assert.throws(() => checkComponentFlags({ notifier: ['--max-attempts=0'] }, idp), /^UsageError: notifier: --max-attempts: must be an integer of at least 1; "0" is not$/);
  });
  test("the notifier's configuration and link are the sandbox's; its timings are the user's", () => {
    assert.throws(() => checkComponentFlags({ notifier: ['--config=/etc/mine.json'] }, idp), /^UsageError: notifier: --config: set by the sandbox to tie the notifier to its control plane/);
    assert.equal(checkComponentFlags({ notifier: ['--pending-reminder=2m'] }, idp), undefined);
    const { args, env } = commandLine('notifier', { set: { 'web-url': 'https://127.0.0.1:9' }, extra: ['--pending-reminder=2m'], fieldRefs: { 'metadata.name': 'p' } });
    assert.deepEqual(args.filter((a) => a.startsWith('--pending-reminder')), ['--pending-reminder=2m']);
    assert.equal(env['NETWATCH_NOTIFIER_WEB_URL'], undefined, "the Deployment's variable goes with the flag the launcher sets");
    assert.equal(env['POD_NAME'], 'p');
  });
  test('--help after a component returns its help', () => {
    const help = checkComponentFlags({ webui: ['--help'] }, idp);
    assert.equal(help?.name, 'webui');
    assert.match(help?.help ?? '', /--public-url/);
  });
  test("the web UI's command line, with the launcher's OIDC settings over the Deployment's", () => {
    const { args, env } = commandLine('webui', {
      set: { 'oidc-username-claim': 'sub', 'oidc-username-prefix': '-', 'oidc-groups-prefix': '', 'session-key-file': '/k', 'public-url': 'https://127.0.0.1:9' },
    });
    const parsed = parseWebUiArgs(args, env, () => Buffer.alloc(32).toString('base64'));
    assert.equal(parsed.kind, 'run');
    assert.deepEqual(parsed.warnings, []);
    assert.deepEqual([parsed.settings.app.claims.usernameClaim, parsed.settings.app.claims.usernamePrefix, parsed.settings.app.claims.groupsPrefix], ['sub', '-', '']);
  });
});

describe("the sandbox's command line", () => {
  test('its own flags first, then a section per component', () =>
    assert.deepEqual(splitCommandLine(['--no-tui', '--port', '0', 'controller', '--isolation', 'refuse', 'webhook', '--max-duration=8h', 'controller', '--workers=4']), {
      sandbox: ['--no-tui', '--port', '0'],
      components: { controller: ['--isolation', 'refuse', '--workers=4'], webhook: ['--max-duration=8h'] },
    }));
  test('no section: everything is the sandbox’s', () => assert.deepEqual(splitCommandLine(['--no-tui']), { sandbox: ['--no-tui'], components: {} }));
});
