import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { clearSecretsForTest, redact, registerSecret } from '../../../src/common/secrets';
import { CancelledError, createCancellation } from '../../../src/pipeline/cancel';
import { httpOptionsFromAgent, userAgent } from '../../../src/pipeline/http';
import { formatElapsed, neutraliseCommands, TaskLogger, withProgress } from '../../../src/pipeline/logger';
import { secretParts, type TaskLibModule } from '../../../src/pipeline/tl';
import { MemoryLogger } from '../../../src/common/logger';

function fakeTl() {
  const calls: string[] = [];
  const tl = {
    IssueType: { Error: 0, Warning: 1 },
    debug: (m: string) => calls.push(`debug:${m}`),
    warning: (m: string) => calls.push(`warning:${m}`),
    error: (m: string) => calls.push(`error:${m}`),
    logIssue: (type: number, m: string, file?: string, line?: number, col?: number) =>
      calls.push(`issue:${type === 0 ? 'error' : 'warning'}:${file}:${line}:${col}:${m}`),
  };
  return { tl: tl as unknown as TaskLibModule, calls };
}

describe('TaskLogger', () => {
  afterEach(() => clearSecretsForTest());

  it('writes info lines, groups, and issues with source locations', () => {
    const lines: string[] = [];
    const { tl, calls } = fakeTl();
    const log = new TaskLogger({ write: (l) => lines.push(l), tl });
    log.startGroup('Deploy notebooks');
    log.info('imported a.py\nimported b.py');
    log.startGroup('inner');
    log.endGroup();
    log.endGroup();
    log.warn('check this', { file: 'notebooks/a.py', line: 3, column: 7 });
    log.error('broken');
    log.warn('plain warning');
    log.debug('detail');
    assert.deepEqual(lines, [
      '##[group]Deploy notebooks',
      'imported a.py',
      'imported b.py',
      'inner',
      '##[endgroup]',
    ]);
    assert.deepEqual(calls, [
      'issue:warning:notebooks/a.py:3:7:check this',
      'error:broken',
      'warning:plain warning',
      'debug:detail',
    ]);
    assert.equal(log.warnings, 2);
    assert.equal(log.errors, 1);
  });

  it('closeGroups closes an open group once', () => {
    const lines: string[] = [];
    const log = new TaskLogger({ write: (l) => lines.push(l), tl: fakeTl().tl });
    log.startGroup('a');
    log.closeGroups();
    log.closeGroups();
    log.endGroup();
    assert.deepEqual(lines, ['##[group]a', '##[endgroup]']);
  });

  it('redacts secrets and neutralises logging commands coming from service output', () => {
    registerSecret('token-abcdef-123');
    const lines: string[] = [];
    const { tl, calls } = fakeTl();
    const log = new TaskLogger({ write: (l) => lines.push(l), tl });
    log.info('output: ##vso[task.setvariable variable=x]evil and token-abcdef-123');
    log.info('##[error]fake');
    log.warn('##vso[task.complete result=Succeeded]');
    assert.equal(lines[0], 'output: ##vso\u200b[task.setvariable variable=x]evil and ***');
    assert.equal(lines[1], '#\u200b#[error]fake');
    assert.doesNotMatch(calls[0], /##vso\[/);
    assert.equal(neutraliseCommands('a ##VSO[x]'), 'a ##vso\u200b[x]');
  });
});

describe('withProgress', () => {
  it('prints a progress line per interval while work runs, and stops after', async () => {
    const lines: string[] = [];
    const out = await withProgress(
      { info: (m: string) => lines.push(m) },
      'waiting for run 42',
      () => new Promise<string>((r) => setTimeout(() => r('done'), 130)),
      { intervalMs: 50 },
    );
    assert.equal(out, 'done');
    assert.ok(lines.length >= 1 && lines.length <= 3, String(lines.length));
    assert.match(lines[0], /^Still waiting for run 42 \(0s\)\.$/);
    const n = lines.length;
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(lines.length, n);
  });

  it('formats elapsed time', () => {
    assert.equal(formatElapsed(59_400), '59s');
    assert.equal(formatElapsed(125_000), '2m 5s');
    assert.equal(formatElapsed(2 * 3600_000 + 61_000), '2h 1m 1s');
  });
});

describe('secretParts', () => {
  it('splits multi-line secrets (task-lib refuses them) and skips PEM armour', () => {
    assert.deepEqual(secretParts('one-line'), ['one-line']);
    assert.deepEqual(
      secretParts('-----BEGIN PRIVATE KEY-----\nAAAAbbbbCCCC\nxy\r\n-----END PRIVATE KEY-----\n'),
      ['AAAAbbbbCCCC'],
    );
  });
});

describe('createCancellation', () => {
  it('the first signal aborts with a CancelledError, the second forces', () => {
    const target = new EventEmitter();
    const seen: string[] = [];
    const c = createCancellation({
      target: target as unknown as NodeJS.Process,
      onCancel: (s) => seen.push(`cancel:${s}`),
      onForce: (s) => seen.push(`force:${s}`),
    });
    assert.equal(c.signal.aborted, false);
    target.emit('SIGTERM', 'SIGTERM');
    assert.equal(c.signal.aborted, true);
    assert.ok(c.signal.reason instanceof CancelledError);
    assert.equal((c.signal.reason as Error).name, 'AbortError');
    target.emit('SIGINT', 'SIGINT');
    assert.deepEqual(seen, ['cancel:SIGTERM', 'force:SIGINT']);
    c.dispose();
    assert.equal(target.listenerCount('SIGINT'), 0);
    assert.equal(target.listenerCount('SIGTERM'), 0);
  });

  it('cancel() aborts once', () => {
    const c = createCancellation({ target: new EventEmitter() as unknown as NodeJS.Process });
    c.cancel('timeout');
    const reason = c.signal.reason;
    c.cancel('again');
    assert.equal(c.signal.reason, reason);
    assert.match((reason as Error).message, /cancelled \(timeout\)/);
  });
});

describe('httpOptionsFromAgent', () => {
  afterEach(() => clearSecretsForTest());

  it('maps the agent proxy (with bypass list) and registers its password', () => {
    const opts = httpOptionsFromAgent(
      {
        proxyUrl: 'http://proxy.corp:8080',
        proxyUsername: 'svc',
        proxyPassword: 'proxy-pass-1',
        proxyBypassHosts: ['\\.corp$'],
      },
      null,
    );
    assert.deepEqual(opts.proxy, {
      url: 'http://proxy.corp:8080',
      username: 'svc',
      password: 'proxy-pass-1',
      bypass: ['\\.corp$'],
    });
    assert.equal(redact('proxy-pass-1'), '***');
  });

  it('reads the CA file; an unreadable one is a warning, not a failure', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    assert.deepEqual(httpOptionsFromAgent(null, { caFile: '/ca.pem' }, undefined, () => pem).caCertificates, [
      pem,
    ]);
    const log = new MemoryLogger();
    const out = httpOptionsFromAgent(null, { caFile: '/missing.pem' }, log, () => {
      throw new Error('ENOENT');
    });
    assert.equal(out.caCertificates, undefined);
    assert.match(
      log.text(),
      /warn: Could not read the agent's CA certificate file \/missing\.pem \(Agent\.CAInfo\): ENOENT/,
    );
    httpOptionsFromAgent(null, { certFile: '/client.pem', passphrase: 'pfx-pass' }, log);
    assert.match(log.text(), /client certificate/);
    assert.equal(redact('pfx-pass'), '***');
  });

  it('no agent settings → no options', () => {
    assert.deepEqual(httpOptionsFromAgent(null, null), {});
  });

  it('user agent names the extension and the task', () => {
    assert.match(
      userAgent('DatabricksRunNotebook', '1.2.3'),
      /^databricks-adf-devops-tasks \(DatabricksRunNotebook\/1\.2\.3; node \d+/,
    );
  });
});
