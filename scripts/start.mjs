#!/usr/bin/env node
// npm start (first version): bundle the tasks, package the .vsix, then start the emulator
// (test/emulator/standalone.ts, run through tsx) and check that it answers over TLS.
//
//   node scripts/start.mjs [--check]   --check: stop the emulator after the self-check
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from './build.mjs';
import { packageExtension } from './package.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SELF_CHECK_TIMEOUT_MS = 60_000;

function parseArgs(argv) {
  const opts = { check: false, emulator: path.join(repoRoot, 'test', 'emulator', 'standalone.ts') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--check') opts.check = true;
    else if (argv[i] === '--emulator') opts.emulator = path.resolve(argv[++i]);
    else throw new Error(`Unknown argument ${argv[i]}. Usage: start.mjs [--check]`);
  }
  return opts;
}

function section(title) {
  console.log(`\n== ${title}`);
}

function getJson(url, ca) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200)
          return reject(new Error(`GET ${new URL(url).pathname} returned ${res.statusCode}`));
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error(`GET ${new URL(url).pathname} did not return JSON`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/**
 * Starts the emulator and resolves once it has printed NODE_EXTRA_CA_CERTS=<file> and an
 * https://127.0.0.1:<port> URL, which is what the self-check needs.
 */
function startEmulator(entry) {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let caFile;
  let url;
  let buffered = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `the emulator printed no NODE_EXTRA_CA_CERTS and https URL within ${SELF_CHECK_TIMEOUT_MS / 1000} s`,
          ),
        ),
      SELF_CHECK_TIMEOUT_MS,
    );
    const onLine = (line) => {
      console.log(`  emulator | ${line}`);
      caFile ??= /NODE_EXTRA_CA_CERTS=["']?([^"'\s]+)/.exec(line)?.[1];
      url ??= /(https:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
      if (caFile && url) {
        clearTimeout(timer);
        resolve({ caFile, url });
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        onLine(buffered.slice(0, nl).replace(/\r$/, ''));
        buffered = buffered.slice(nl + 1);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => process.stderr.write(chunk.replace(/^/gm, '  emulator ! ')));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the emulator exited (${signal ?? `code ${code}`}) before it was ready`));
    });
  });
  return { child, ready };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();

  section('Build');
  const built = await build({ tasksRoot: path.join(repoRoot, 'tasks'), out: path.join(repoRoot, 'dist') });

  section('Package');
  const pkg = await packageExtension({ dist: path.join(repoRoot, 'dist') });

  section('Emulator');
  if (!fs.existsSync(opts.emulator)) {
    console.log(
      `${path.relative(repoRoot, opts.emulator)} does not exist yet, so there is no emulator to start.`,
    );
    summary(pkg, built, started);
    return;
  }
  const { child, ready } = startEmulator(opts.emulator);
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const { caFile, url } = await ready;
    const hosts = await getJson(`${url}/_emulator/hosts`, fs.readFileSync(caFile));
    const list = Array.isArray(hosts) ? hosts : [];
    console.log(
      `Self-check: ${url} answered over TLS with the emulator's CA; ${list.length} emulated host(s):`,
    );
    for (const h of list) console.log(`  ${String(h.role ?? '').padEnd(12)} ${h.name}  ${h.url}`);
  } catch (err) {
    stop();
    throw new Error(`emulator self-check failed: ${err.message}`);
  }
  summary(pkg, built, started);
  if (opts.check) {
    stop();
    return;
  }
  console.log('\nThe emulator keeps running; press Ctrl+C to stop it.');
  await new Promise((resolve) => child.on('exit', resolve));
}

function summary(pkg, built, started) {
  section('Done');
  console.log(
    `Tasks built: ${built.tasks.length ? built.tasks.map((t) => t.folder).join(', ') : 'none yet'}`,
  );
  console.log(`Extension:   ${pkg.vsix} (${(pkg.bytes / 1024).toFixed(1)} KB)`);
  console.log(`Took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  console.error(`\nnpm start failed: ${err.message}`);
  process.exit(1);
});
