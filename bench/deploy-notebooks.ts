/**
 * Benchmark for DatabricksDeployNotebooks: 500 notebooks in 40 folders against
 * the emulator with 50 ms latency and an import limit of 30 requests a second.
 *
 *   (a) a sequential client doing what existing tools do: mkdirs + import per
 *       file, one at a time, every file every time;
 *   (b) this task's core (deployNotebooks), concurrency 8;
 * each for a first deploy and for a redeploy with 5 changed notebooks.
 *
 *   npx tsx bench/deploy-notebooks.ts [--notebooks 500] [--folders 40] [--latency 50] [--limit 30] [--concurrency 8]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../src/common/logger';
import { deployNotebooks } from '../src/databricks/deploy/deploy';
import { WorkspaceClient } from '../src/databricks/workspace-client';
import { closeHttpClient, createHttpClient } from '../src/http/client';
import type { HttpClient } from '../src/http/types';
import { Emulator } from '../test/emulator/core';
import { installDatabricks, type Workspace } from '../test/emulator/databricks';

const PAT = 'dapi-bench-0123456789abcdef0123456789ab';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const NOTEBOOKS = arg('notebooks', 500);
const FOLDERS = arg('folders', 40);
const LATENCY_MS = arg('latency', 50);
const IMPORT_LIMIT = arg('limit', 30);
const CONCURRENCY = arg('concurrency', 8);
const CHANGED = 5;

interface Measurement {
  label: string;
  wallMs: number;
  requests: number;
  imports: number;
  throttled: number;
}

function notebookText(i: number, version: number): string {
  return `# Databricks notebook source\n# notebook ${i}, version ${version}\nprint(${i})\n\n# COMMAND ----------\n\ndisplay(spark.range(${i}))\n`;
}

function writeSource(dir: string, version: (i: number) => number): string[] {
  const rels: string[] = [];
  for (let i = 0; i < NOTEBOOKS; i++) {
    const rel = `folder_${String(i % FOLDERS).padStart(2, '0')}/notebook_${String(i).padStart(3, '0')}.py`;
    const abs = path.join(dir, ...rel.split('/'));
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, notebookText(i, version(i)));
    rels.push(rel);
  }
  return rels;
}

/** What the existing tools do: for each file, mkdirs its folder, then import with overwrite. */
async function sequentialDeploy(
  http: HttpClient,
  url: string,
  dir: string,
  rels: string[],
  target: string,
): Promise<void> {
  const ws = new WorkspaceClient(http, url);
  for (const rel of rels) {
    const folder = path.posix.dirname(`${target}/${rel}`);
    await ws.mkdirs(folder);
    await ws.importObject({
      path: `${target}/${rel.replace(/\.py$/, '')}`,
      format: 'SOURCE',
      language: 'PYTHON',
      content: fs.readFileSync(path.join(dir, ...rel.split('/'))),
      overwrite: true,
    });
  }
}

async function measure(
  label: string,
  emu: Emulator,
  ws: Workspace,
  fn: () => Promise<void>,
): Promise<Measurement> {
  emu.clearJournal();
  // A fresh token bucket per measurement so no run inherits another's debt.
  emu.setRateLimit('workspace.import', IMPORT_LIMIT);
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const entries = emu.requests({ host: ws.hostName });
  return {
    label,
    wallMs,
    requests: entries.length,
    imports: entries.filter((e) => e.api === 'workspace.import' && e.status === 200).length,
    throttled: entries.filter((e) => e.status === 429).length,
  };
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

async function main(): Promise<void> {
  const emu = await Emulator.create({ latencyMs: LATENCY_MS, journalBodies: false });
  const dbx = installDatabricks(emu);
  const ws = await dbx.addWorkspace('bench');
  ws.addPat(PAT);
  const http = createHttpClient({
    caCertificates: [emu.caPem],
    authorize: async () => ({ Authorization: `Bearer ${PAT}` }),
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-deploy-'));
  const results: Measurement[] = [];
  try {
    console.log(
      `Deploy benchmark: ${NOTEBOOKS} notebooks in ${FOLDERS} folders, latency ${LATENCY_MS} ms, ` +
        `import limit ${IMPORT_LIMIT}/s (burst ${IMPORT_LIMIT}), concurrency ${CONCURRENCY}`,
    );
    const rels = writeSource(dir, () => 1);

    // (a) sequential client
    results.push(
      await measure('sequential: first deploy', emu, ws, () =>
        sequentialDeploy(http, ws.url, dir, rels, '/Shared/seq'),
      ),
    );
    writeSource(dir, (i) => (i < CHANGED ? 2 : 1));
    results.push(
      await measure(`sequential: redeploy, ${CHANGED} changed`, emu, ws, () =>
        sequentialDeploy(http, ws.url, dir, rels, '/Shared/seq'),
      ),
    );

    // (b) this task
    writeSource(dir, () => 1);
    const ours = (label: string) =>
      measure(label, emu, ws, async () => {
        const r = await deployNotebooks({
          workspace: new WorkspaceClient(http, ws.url),
          source: { type: 'folder', folder: dir },
          targetPath: '/Shared/task',
          mode: 'mirror',
          skipUnchanged: true,
          replaceTokens: false,
          dryRun: false,
          concurrency: CONCURRENCY,
          logger: silentLogger,
        });
        if (r.failures.length) throw new Error(`deploy failed: ${JSON.stringify(r.failures.slice(0, 3))}`);
      });
    results.push(await ours('task: first deploy'));
    writeSource(dir, (i) => (i < CHANGED ? 2 : 1));
    results.push(await ours(`task: redeploy, ${CHANGED} changed`));

    // Both clients must leave the same notebooks behind.
    for (const rel of rels.slice(0, CHANGED)) {
      const nb = rel.replace(/\.py$/, '');
      if (ws.content(`/Shared/task/${nb}`) !== ws.content(`/Shared/seq/${nb}`))
        throw new Error(`${nb} differs`);
    }
  } finally {
    closeHttpClient(http);
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const floorMs = (NOTEBOOKS / IMPORT_LIMIT) * 1000;
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log('');
  console.log(`${pad('run', 34)}${pad('wall time', 12)}${pad('requests', 10)}${pad('imports', 9)}429s`);
  for (const m of results) {
    console.log(
      `${pad(m.label, 34)}${pad(secs(m.wallMs), 12)}${pad(String(m.requests), 10)}${pad(String(m.imports), 9)}${m.throttled}`,
    );
  }
  const [seqFirst, seqRedeploy, first, redeploy] = results;
  const firstVsFloor = first.wallMs / floorMs;
  const redeployRatio = seqRedeploy.wallMs / redeploy.wallMs;
  console.log('');
  console.log(`rate-limit floor for ${NOTEBOOKS} imports at ${IMPORT_LIMIT}/s: ${secs(floorMs)}`);
  console.log(
    `first deploy: ${firstVsFloor.toFixed(2)}x the floor (target <= 1.2x); ${(seqFirst.wallMs / first.wallMs).toFixed(1)}x faster than sequential`,
  );
  console.log(
    `redeploy: ${redeployRatio.toFixed(1)}x faster than sequential (target >= 20x); requests ${redeploy.requests} vs ${seqRedeploy.requests}`,
  );
  const ok = firstVsFloor <= 1.2 && redeployRatio >= 20;
  console.log(ok ? 'targets met' : 'TARGETS MISSED');
  if (!ok) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
