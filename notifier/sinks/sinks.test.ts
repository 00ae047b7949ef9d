// The three sinks delivering to real local receivers (scripts/receivers.ts) over loopback: HTTPS checked against a
// CA file, SMTP with STARTTLS and AUTH, secrets read from files. Failures name what failed without the secret.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTP, type CloudEvent } from 'cloudevents';
import { describeDelivery, startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from '../../scripts/receivers.ts';
import { buildMessage, type Message } from '../messages.ts';
import { noticesOf, DEFAULT_NOTICE_TIMINGS } from '../notices.ts';
import { requestFixture, T0 } from '../../test/support/builders.ts';
import { createSink } from './index.ts';
import type { SlackPayload } from './slack.ts';

let dir: string;
let https: HttpReceiver;
let smtp: SmtpReceiver;
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

function message(): Message {
  const r = requestFixture({ phase: 'PartiallyApproved', approvedAtCreation: ['source'], reason: 'dashboards <b>now</b> é' });
  const notice = noticesOf(r, DEFAULT_NOTICE_TIMINGS, T0 + 1000).due[0];
  assert.ok(notice);
  return buildMessage(r, notice, { webUrl: 'https://netwatch.example.com' }, T0 + 1000);
}

describe('sinks against real local receivers', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netwatch-sinks-'));
    https = await startHttpReceiver();
    smtp = await startSmtpReceiver({ auth: { username: 'netwatch', password: 's3cret pass' } });
  });
  after(async () => {
    await https?.close();
    await smtp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Slack: a Block Kit JSON POST over verified HTTPS, with the idempotency key', async () => {
    const sink = createSink({ name: 'team', type: 'slack', urlFile: file('slack-url', `${https.url}/services/T000/B000/XXXX\n`), caFile: file('ca.crt', https.caPem ?? ''), plainHttp: false });
    const m = message();
    await sink.send(m, { sink: 'team', type: 'slack', key: 'team' }, 5000);
    const [got] = https.delivered('/services/');
    assert.ok(got);
    assert.equal(got.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(got.headers['idempotency-key'], m.key);
    const payload = JSON.parse(got.body) as SlackPayload;
    assert.equal(payload.blocks[0]?.type, 'header');
    assert.ok(got.body.includes('dashboards <b>now</b> é'), 'the reason, as plain text');
    assert.equal(describeDelivery(got), 'slack to /services/T000/B000/XXXX: netwatch: ar-1: approval needed in default');
  });

  it('CloudEvents: a structured-mode event with the Authorization header from its file', async () => {
    const sink = createSink({
      name: 'audit',
      type: 'cloudevents',
      urlFile: file('events-url', `${https.url}/events`),
      authorizationFile: file('token', 'Bearer t0ken\n'),
      caFile: file('ca2.crt', https.caPem ?? ''),
      plainHttp: false,
    });
    const m = message();
    await sink.send(m, { sink: 'audit', type: 'cloudevents', key: 'audit' }, 5000);
    const [got] = https.delivered('/events');
    assert.ok(got);
    assert.equal(got.headers.authorization, 'Bearer t0ken');
    const event = HTTP.toEvent({ headers: got.headers, body: got.body }) as CloudEvent;
    assert.equal(event.id, m.key);
    assert.equal(event.specversion, '1.0');
    assert.equal(describeDelivery(got), 'cloudevents to approvers of default: ar-1: approval-needed/target');
  });

  it('email: STARTTLS against the CA file, AUTH from the files, text and HTML parts, the Message-ID', async () => {
    const sink = createSink({
      name: 'mail',
      type: 'email',
      host: smtp.host,
      port: smtp.port,
      tls: 'starttls',
      from: { name: 'netwatch', address: 'netwatch@example.com' },
      usernameFile: file('user', 'netwatch\n'),
      passwordFile: file('pass', 's3cret pass\n'),
      caFile: file('smtp-ca.crt', smtp.caPem ?? ''),
    });
    const m = message();
    await sink.send(m, { sink: 'mail', type: 'email', address: 'leads@example.com', key: 'mail:leads@example.com' }, 5000);
    const [mail] = smtp.mails;
    assert.ok(mail);
    assert.equal(mail.secure, true, 'upgraded with STARTTLS');
    assert.equal(mail.user, 'netwatch');
    assert.deepEqual(mail.to, ['leads@example.com']);
    assert.equal(mail.from, 'netwatch@example.com');
    assert.equal(mail.subject, '[netwatch] ar-1: approval needed in default');
    assert.equal(mail.messageId, `<${m.key}@netwatch.vtk.io>`);
    assert.ok(mail.text.includes('dashboards <b>now</b> é'));
    assert.ok(mail.html.includes('dashboards &lt;b&gt;now&lt;/b&gt; é'));
    assert.equal(describeDelivery(mail), 'email to leads@example.com: [netwatch] ar-1: approval needed in default');
  });

  it('failures say what failed, never the URL or a credential', async () => {
    https.fail('/fail', 1, 503);
    const secretUrl = `${https.url}/fail/T000/B000/SECRETTOKEN`;
    const slack = createSink({ name: 'team', type: 'slack', urlFile: file('fail-url', secretUrl), caFile: file('ca3.crt', https.caPem ?? ''), plainHttp: false });
    await assert.rejects(slack.send(message(), { sink: 'team', type: 'slack', key: 'team' }, 5000), (e: Error) => e.message === 'HTTP 503');
    // Without the CA file the receiver's certificate is not trusted.
    const untrusted = createSink({ name: 'team', type: 'slack', urlFile: file('url2', secretUrl), plainHttp: false });
    await assert.rejects(untrusted.send(message(), { sink: 'team', type: 'slack', key: 'team' }, 5000), (e: Error) => {
      assert.equal(e.message, 'connection failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE)');
      assert.ok(!e.message.includes('SECRETTOKEN') && !e.message.includes('127.0.0.1'), e.message);
      return true;
    });
    const plain = createSink({ name: 'team', type: 'slack', urlFile: file('url3', 'http://127.0.0.1:1/SECRETTOKEN'), plainHttp: false });
    await assert.rejects(plain.send(message(), { sink: 'team', type: 'slack', key: 'team' }, 5000), /holds a http: URL; https is required \(plainHttp allows http\)/);
    const missing = createSink({ name: 'team', type: 'slack', urlFile: join(dir, 'nope'), plainHttp: false });
    await assert.rejects(missing.send(message(), { sink: 'team', type: 'slack', key: 'team' }, 5000), /cannot read the URL file \(ENOENT\)/);
    const badAuth = createSink({
      name: 'mail',
      type: 'email',
      host: smtp.host,
      port: smtp.port,
      tls: 'starttls',
      from: { name: '', address: 'netwatch@example.com' },
      usernameFile: file('user2', 'netwatch'),
      passwordFile: file('pass2', 'WRONGPASSWORD'),
      caFile: file('smtp-ca2.crt', smtp.caPem ?? ''),
    });
    await assert.rejects(badAuth.send(message(), { sink: 'mail', type: 'email', address: 'a@example.com', key: 'k' }, 5000), (e: Error) => {
      assert.equal(e.message, 'SMTP EAUTH 535');
      return true;
    });
  });

  it('the SMTP receiver fails on demand with a temporary error', async () => {
    smtp.fail(1);
    const sink = createSink({ name: 'mail', type: 'email', host: smtp.host, port: smtp.port, tls: 'starttls', from: { name: '', address: 'n@example.com' }, usernameFile: file('u3', 'netwatch'), passwordFile: file('p3', 's3cret pass'), caFile: file('c3', smtp.caPem ?? '') });
    const before = smtp.mails.length;
    await assert.rejects(sink.send(message(), { sink: 'mail', type: 'email', address: 'a@example.com', key: 'k' }, 5000), (e: Error) => e.message === 'SMTP EMESSAGE 451');
    await sink.send(message(), { sink: 'mail', type: 'email', address: 'a@example.com', key: 'k' }, 5000);
    assert.equal(smtp.mails.length, before + 1);
  });
});
