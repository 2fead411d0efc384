/**
 * Renders the run-summary screenshots in images/screenshots/ (shown on the Marketplace page,
 * overview.md) from what the tasks really upload:
 *
 *   1. bundles the tasks (scripts/build.mjs, into a temp folder) and starts the emulator;
 *   2. runs the bundled tasks through the agent harness on the sample project (samples/), the
 *      way a test stage would: build the ARM templates, deploy the notebooks twice (the second
 *      time with changes), deploy the factory twice (the second time with a changed pipeline
 *      and trigger), run the smoke tests and a failing model test;
 *   3. takes the markdown summary each run uploaded (##vso[task.uploadsummary]), converts it
 *      with `marked` into a page styled like the Extensions tab of an Azure DevOps run, and
 *      screenshots it in headless Chromium (Debian: `apt-get install chromium fonts-noto-core
 *      fonts-noto-color-emoji`; the fonts give a Segoe-like face and the ✅/❌ marks).
 *
 *   npx tsx scripts/render-screenshots.ts [--out <dir>] [--markdown-only] [--chromium <path>]
 *
 * --markdown-only writes the captured .md and .html files (default folder .tmp/screenshots) and
 * skips Chromium. The PNGs are committed; nothing in npm test or CI runs this script.
 *
 * The markdown is the tasks' own, with one cosmetic change: the emulator's addresses
 * (https://127.0.0.1:<port>) and the temporary folders of this run are replaced by the sample's
 * workspace URL and the folders a Microsoft-hosted Linux agent would use, so the pictures show
 * what a user would see. Nothing else is edited.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { marked } from 'marked';
import { startEmulator, type FullEmulator } from '../test/emulator/index';
import type { Workspace } from '../test/emulator/databricks';
import { buildOnce, TASKS_ROOT } from '../test/harness/build-once';
import { REPO_ROOT, runTask, type EndpointSpec, type TaskRun } from '../test/harness/run-task';

const SUBSCRIPTION = '5d7e2f1c-3b4a-4c8d-9e6f-0a1b2c3d4e5f';
const RESOURCE_GROUP = 'rg-churn-test';
const FACTORY = 'adf-churn-test';
const TARGET = '/Shared/churn';
const PAGE_WIDTH = 1000;
const MAX_HEIGHT = 2600;

interface Options {
  out: string;
  markdownOnly: boolean;
  chromium?: string;
}

function parseArgs(argv: string[]): Options {
  let out: string | undefined;
  const opts: Options = { out: '', markdownOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') out = path.resolve(argv[++i]);
    else if (a === '--markdown-only') opts.markdownOnly = true;
    else if (a === '--chromium') opts.chromium = argv[++i];
    else
      throw new Error(
        `Unknown argument ${a}. Usage: render-screenshots.ts [--out <dir>] [--markdown-only] [--chromium <path>]`,
      );
  }
  opts.out =
    out ?? path.join(REPO_ROOT, ...(opts.markdownOnly ? ['.tmp', 'screenshots'] : ['images', 'screenshots']));
  return opts;
}

/** One screenshot: the summary a task run uploaded, and what the page says about it. */
interface Shot {
  file: string;
  /** Step name shown above the summary, as the pipeline's log would name the step. */
  step: string;
  run: TaskRun;
}

/** Emulator addresses and this run's temp folders → what a user's run would show (see the header). */
type Rewrite = [from: string, to: string];

function applyRewrites(text: string, rewrites: Rewrite[]): string {
  let out = text;
  // Longest first, so a folder is replaced before its parent.
  for (const [from, to] of [...rewrites].sort((a, b) => b[0].length - a[0].length))
    out = out.split(from).join(to);
  return out;
}

/** The harness's agent work folder of a run (…/work), from its temp directory (…/work/_temp). */
function agentWorkFolder(run: TaskRun): string {
  return path.dirname(run.tempDirectory);
}

function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}

function editJson(file: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(json);
  fs.writeFileSync(file, JSON.stringify(json, null, '\t'));
}

function check(run: TaskRun, expected: TaskRun['outcome'], what: string): TaskRun {
  if (run.outcome !== expected) {
    throw new Error(
      `${what}: expected ${expected}, got ${run.outcome}: ${run.result?.message ?? ''}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-1000)}`,
    );
  }
  if (run.summaries.length === 0 || !run.summaries[0].content)
    throw new Error(`${what}: no summary uploaded`);
  return run;
}

/** Runs the sample flow's task steps for one environment and returns the runs to picture. */
async function runTasks(
  full: FullEmulator,
  distDir: string,
  work: string,
): Promise<{ shots: Shot[]; rewrites: Rewrite[] }> {
  const { databricks, entra, arm } = full;
  const pat = `dapi${crypto.randomBytes(16).toString('hex')}`;
  const clientId = crypto.randomUUID();
  const clientSecret = crypto.randomBytes(24).toString('base64url');

  // Notebook runs take a moment, as a small serverless run would (scaled down).
  const ws: Workspace = await databricks.addWorkspace('churn-test', {
    pendingMs: 300,
    defaultDurationMs: 1500,
  });
  ws.addPat(pat);
  entra.addApp({
    tenantId: entra.defaultTenantId,
    clientId,
    secret: clientSecret,
    displayName: 'sp-churn-test',
  });
  arm.setOptions({
    triggerOperationMs: 1200,
    deploymentStartMs: 200,
    deploymentStepMs: 40,
    asyncRetryAfterSeconds: 1,
  });
  arm.addSubscription(SUBSCRIPTION, { tenantId: entra.defaultTenantId, displayName: 'Data Platform' });
  arm.addResourceGroup(SUBSCRIPTION, RESOURCE_GROUP, 'westeurope');
  arm.grant(SUBSCRIPTION, clientId, 'Data Factory Contributor');
  arm.addFactory(SUBSCRIPTION, RESOURCE_GROUP, FACTORY, 'westeurope');

  const endpoints: Record<string, EndpointSpec> = {
    'databricks-test': { url: ws.url, scheme: 'Token', parameters: { apitoken: pat } },
    'azure-churn-test': {
      url: `${arm.url}/`,
      scheme: 'ServicePrincipal',
      parameters: {
        serviceprincipalid: clientId,
        tenantid: entra.defaultTenantId,
        serviceprincipalkey: clientSecret,
        authenticationType: 'spnKey',
      },
      data: {
        subscriptionId: SUBSCRIPTION,
        activeDirectoryAuthority: entra.authorityHost,
        environment: 'AzureCloud',
        activeDirectoryServiceEndpointResourceId: 'https://management.core.windows.net/',
      },
    },
  };
  const variables = {
    'Build.BuildId': '2417',
    'Build.BuildNumber': '20250601.3',
    'Build.DefinitionName': 'churn-scoring',
    'System.HostType': 'build',
    'System.StageName': 'Test',
    'System.StageDisplayName': 'Test',
    'System.JobDisplayName': 'Deploy to test',
    Environment: 'test',
    Catalog: 'churn_test',
    StorageAccount: 'stchurntest',
  };
  const run = (task: string, inputs: Record<string, string>) =>
    runTask({
      task,
      distDir,
      inputs,
      endpoints,
      variables,
      secrets: [pat, clientSecret],
      env: full.env(),
      timeoutMs: 120_000,
    });

  const factoryFolder = path.join(work, 'factory');
  const notebooks = path.join(work, 'notebooks');
  copyTree(path.join(REPO_ROOT, 'samples', 'factory'), factoryFolder);
  copyTree(path.join(REPO_ROOT, 'samples', 'notebooks'), notebooks);
  const shots: Shot[] = [];

  // Build: validate the factory folder and export its ARM templates.
  const build = (out: string) =>
    run('DataFactoryBuildArmTemplateV1', { factoryFolder, outputFolder: out, linkedTemplates: 'auto' });
  const adf1 = path.join(work, 'adf-1');
  shots.push({
    file: 'build-arm-template.png',
    step: 'DataFactoryBuildArmTemplate@1: Validate the factory and export its ARM templates',
    run: check(await build(adf1), 'Succeeded', 'build ARM template'),
  });

  // Notebooks: a first deploy, then one with a changed notebook, a new one and a removed one.
  const scratch = path.join(notebooks, 'scratch', 'old_experiment.py');
  fs.mkdirSync(path.dirname(scratch), { recursive: true });
  fs.writeFileSync(scratch, '# Databricks notebook source\ndisplay(spark.range(10))\n');
  const deployNotebooks = () =>
    run('DatabricksDeployNotebooksV1', {
      authType: 'databricks',
      databricksConnection: 'databricks-test',
      sourceType: 'folder',
      sourceFolder: notebooks,
      targetPath: TARGET,
      mode: 'mirror',
      replaceTokens: 'true',
      skipUnchanged: 'true',
      concurrency: '8',
    });
  check(await deployNotebooks(), 'Succeeded', 'first notebook deploy');
  fs.rmSync(path.dirname(scratch), { recursive: true });
  const scoring = path.join(notebooks, 'scoring', 'score_customers.scala');
  fs.appendFileSync(scoring, '\n// COMMAND ----------\n\nprintln(s"scored ${scored.count()} customers")\n');
  fs.writeFileSync(
    path.join(notebooks, 'features', 'customer_segments.sql'),
    '-- Databricks notebook source\nSELECT customer_id, ntile(4) OVER (ORDER BY lifetime_value) AS segment\nFROM #{Catalog}#.churn_silver.customer_features\n',
  );
  // Someone edited a notebook in the workspace since the last deploy: reported as drift.
  ws.edit(
    `${TARGET}/ingest/ingest_orders`,
    '# Databricks notebook source\nprint("hotfix made in the workspace")\n',
  );
  shots.push({
    file: 'deploy-notebooks.png',
    step: 'DatabricksDeployNotebooks@1: Deploy notebooks',
    run: check(await deployNotebooks(), 'Succeeded', 'second notebook deploy'),
  });

  // Factory: a first deployment, then one with a changed pipeline and trigger.
  const overrides = [
    '-LS_KeyVault_properties_typeProperties_baseUrl "https://kv-churn-test.vault.azure.net/"',
    '-LS_ADLS_properties_typeProperties_url "https://stchurntest.dfs.core.windows.net/"',
    '-LS_Databricks_properties_typeProperties_domain "https://adb-2222222222222222.2.azuredatabricks.net"',
    '-default_properties_environment_value "test"',
  ].join('\n');
  const deployFactory = (adf: string, method: 'arm' | 'direct') =>
    run('DataFactoryDeployV1', {
      azureSubscription: 'azure-churn-test',
      resourceGroupName: RESOURCE_GROUP,
      factoryName: FACTORY,
      templateFile: path.join(adf, 'ARMTemplateForFactory.json'),
      templateParametersFile: path.join(adf, 'ARMTemplateParametersForFactory.json'),
      overrideParameters: overrides,
      deploymentMode: 'Incremental',
      deploymentMethod: method,
      stopTriggers: 'true',
      deleteRemoved: 'true',
      maxDeletes: '20',
      dryRun: 'false',
    });
  check(await deployFactory(adf1, 'arm'), 'Succeeded', 'first factory deployment');
  editJson(path.join(factoryFolder, 'pipeline', 'PL_Score_Customers.json'), (p) => {
    const props = p.properties as Record<string, unknown>;
    props.description = 'Scores every active customer with the production churn model (v2: adds segments).';
  });
  editJson(path.join(factoryFolder, 'trigger', 'TR_Daily_0200.json'), (t) => {
    const recurrence = ((t.properties as Record<string, unknown>).typeProperties as Record<string, unknown>)
      .recurrence as { schedule: { hours: number[] } };
    recurrence.schedule.hours = [3];
  });
  const adf2 = path.join(work, 'adf-2');
  check(await build(adf2), 'Succeeded', 'second build');
  shots.push({
    file: 'datafactory-deploy.png',
    step: 'DataFactoryDeploy@1: Deploy the factory',
    run: check(await deployFactory(adf2, 'direct'), 'Succeeded', 'second factory deployment'),
  });

  // Tests: the smoke tests pass, the model test misses its accuracy threshold.
  ws.scriptRun(`${TARGET}/tests/smoke_test`, {
    durationMs: 1800,
    exitValue: JSON.stringify({
      tests: [
        { name: 'spark session answers a query', status: 'passed', duration: 0.412 },
        { name: 'catalog and schema exist', status: 'passed', duration: 0.835 },
        { name: 'target table has enough rows', status: 'passed', duration: 2.104 },
      ],
      metrics: { environment: 'test', row_count: 48213, checks_passed_ratio: 1.0 },
    }),
  });
  ws.scriptRun(`${TARGET}/tests/model_test`, {
    durationMs: 2400,
    exitValue: JSON.stringify({ metrics: { accuracy: 0.8712, rows_scored: 10034, sample_fraction: 0.5 } }),
  });
  const runNotebook = (notebook: string, title: string, parameters: string, assertions: string) =>
    run('DatabricksRunNotebookV1', {
      authType: 'databricks',
      databricksConnection: 'databricks-test',
      notebookPath: `${TARGET}/tests/${notebook}`,
      parameters,
      cluster: 'serverless',
      timeoutMinutes: '30',
      publishTestResults: 'true',
      testRunTitle: title,
      assertions,
    });
  shots.push({
    file: 'run-notebook-tests.png',
    step: 'DatabricksRunNotebook@1: Smoke tests',
    run: check(
      await runNotebook(
        'smoke_test',
        'Smoke tests (test)',
        'environment=test\ncatalog=churn_test\nschema=churn_bronze\ntable=orders\nmin_rows=1000',
        'metrics.checks_passed_ratio == 1\nmetrics.row_count >= 1000',
      ),
      'Succeeded',
      'smoke tests',
    ),
  });
  shots.push({
    file: 'run-notebook-failed.png',
    step: 'DatabricksRunNotebook@1: Model tests',
    run: check(
      await runNotebook(
        'model_test',
        'Model tests (test)',
        'sample_fraction=0.5\nseed=42',
        'metrics.accuracy >= 0.9\nmetrics.rows_scored > 5000',
      ),
      'Failed',
      'model tests',
    ),
  });
  const rewrites: Rewrite[] = [
    [ws.url, 'https://adb-2222222222222222.2.azuredatabricks.net'],
    [factoryFolder, '/home/vsts/work/1/s/samples/factory'],
    [adf1, '/home/vsts/work/1/a/adf'],
    [adf2, '/home/vsts/work/1/a/adf'],
    [notebooks, '/home/vsts/work/1/notebooks'],
    ...shots.map((s): Rewrite => [agentWorkFolder(s.run), '/home/vsts/work']),
  ];
  return { shots, rewrites };
}

// ---- rendering ---------------------------------------------------------------------------------

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

/** Section title as the agent shows it: the uploaded file's name without .md. */
function sectionTitle(summaryPath: string): string {
  return path.basename(summaryPath).replace(/\.md$/i, '');
}

const STYLE = `
  * { box-sizing: border-box; }
  body { margin: 0; background: #f8f8f8; color: rgba(0,0,0,.9);
    font-family: "Segoe UI", "Noto Sans", "Liberation Sans", "DejaVu Sans", sans-serif; font-size: 14px; line-height: 20px; }
  .header { background: #fff; border-bottom: 1px solid #eaeaea; padding: 14px 24px 0; }
  .crumbs { color: rgba(0,0,0,.55); font-size: 12px; }
  .title { font-size: 20px; font-weight: 600; margin: 6px 0 10px; display: flex; align-items: center; gap: 8px; }
  .badge { display: inline-block; width: 16px; height: 16px; border-radius: 50%; }
  .badge.ok { background: #107c10; } .badge.fail { background: #cd4a45; }
  .tabs { display: flex; gap: 24px; }
  .tab { padding: 8px 0 10px; color: rgba(0,0,0,.55); }
  .tab.on { color: rgba(0,0,0,.9); font-weight: 600; border-bottom: 2px solid #0078d4; }
  .content { padding: 16px 24px 24px; }
  .card { background: #fff; border-radius: 4px; box-shadow: 0 1px 3px rgba(0,0,0,.13); }
  .card-head { padding: 12px 20px; font-weight: 600; font-size: 15px; border-bottom: 1px solid #eaeaea; display: flex; gap: 8px; }
  .chev { color: rgba(0,0,0,.55); }
  .step { color: rgba(0,0,0,.55); font-weight: 400; margin-left: auto; font-size: 12px; }
  .md { padding: 8px 20px 16px; overflow-wrap: anywhere; }
  .md h1, .md h2, .md h3, .md h4 { font-weight: 600; margin: 16px 0 8px; }
  .md h1 { font-size: 20px; } .md h2 { font-size: 17px; } .md h3 { font-size: 15px; } .md h4 { font-size: 14px; }
  .md p, .md ul, .md ol { margin: 6px 0 10px; }
  .md ul, .md ol { padding-left: 24px; }
  .md code { font-family: "Cascadia Mono", Consolas, "DejaVu Sans Mono", monospace; font-size: 12px;
    background: #f4f4f4; padding: 1px 4px; border-radius: 2px; }
  .md pre { background: #f4f4f4; padding: 8px 12px; overflow: hidden; white-space: pre-wrap; }
  .md pre code { padding: 0; background: none; }
  .md table { border-collapse: collapse; margin: 8px 0 12px; }
  .md th, .md td { border: 1px solid #e0e0e0; padding: 4px 10px; vertical-align: top; }
  .md th { background: #f4f4f4; font-weight: 600; text-align: left; }
  .md [align="right"] { text-align: right; } .md [align="center"] { text-align: center; }
  .md a { color: #0078d4; text-decoration: none; }
  .md details { margin: 6px 0; } .md summary { cursor: pointer; }
  .md blockquote { margin: 8px 0; padding: 2px 12px; border-left: 3px solid #c8c8c8; color: rgba(0,0,0,.7); }
`;

function renderPage(shot: Shot, markdown: string): string {
  const summary = shot.run.summaries[0];
  const body = marked.parse(markdown, { async: false, gfm: true });
  const ok = shot.run.outcome === 'Succeeded' || shot.run.outcome === 'SucceededWithIssues';
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(sectionTitle(summary.path))}</title><style>${STYLE}</style></head>
<body>
<div class="header">
  <div class="crumbs">churn-scoring &rsaquo; Runs &rsaquo; 20250601.3 &rsaquo; Test</div>
  <div class="title"><span class="badge ${ok ? 'ok' : 'fail'}"></span>${escapeHtml(shot.step.replace(/^[^:]+: /, ''))}</div>
  <div class="tabs"><span class="tab">Summary</span><span class="tab">Tests</span><span class="tab on">Extensions</span></div>
</div>
<div class="content"><div class="card">
  <div class="card-head"><span class="chev">&#x2304;</span>${escapeHtml(sectionTitle(summary.path))}<span class="step">${escapeHtml(shot.step.split(':')[0])}</span></div>
  <div class="md">${body}</div>
</div></div>
<script>document.body.setAttribute('data-height', String(Math.ceil(document.querySelector('.content').getBoundingClientRect().bottom + window.scrollY)));</script>
</body></html>
`;
}

function findChromium(given?: string): string {
  const candidates = given ? [given] : ['chromium', 'chromium-browser', 'google-chrome'];
  for (const c of candidates) {
    try {
      execFileSync(c, ['--version'], { stdio: 'ignore' });
      return c;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    `Chromium not found (tried ${candidates.join(', ')}). On Debian: apt-get install chromium; or pass --chromium <path>. --markdown-only skips the screenshots.`,
  );
}

function chromiumArgs(profile: string, width: number, height: number): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    '--force-device-scale-factor=1',
    `--user-data-dir=${profile}`,
    `--window-size=${width},${height}`,
  ];
}

/**
 * Screenshot of the whole page: a first pass (in a short window, so the viewport does not pad
 * the page) measures the content's height, the second takes the picture at that height.
 */
function screenshot(chromium: string, htmlFile: string, pngFile: string): { width: number; height: number } {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
  try {
    const url = `file://${htmlFile}`;
    const dom = execFileSync(chromium, [...chromiumArgs(profile, PAGE_WIDTH, 200), '--dump-dom', url], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 60_000,
    });
    const measured = Number(/data-height="(\d+)"/.exec(dom)?.[1]);
    if (!Number.isFinite(measured) || measured <= 0) throw new Error(`could not measure ${htmlFile}`);
    const height = Math.min(MAX_HEIGHT, measured);
    execFileSync(chromium, [...chromiumArgs(profile, PAGE_WIDTH, height), `--screenshot=${pngFile}`, url], {
      stdio: 'ignore',
      timeout: 60_000,
    });
    if (!fs.existsSync(pngFile)) throw new Error(`Chromium wrote no ${pngFile}`);
    return { width: PAGE_WIDTH, height };
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const chromium = opts.markdownOnly ? undefined : findChromium(opts.chromium);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'render-screenshots-'));
  const built = await buildOnce(TASKS_ROOT);
  const full = await startEmulator({ seed: 11 });
  let shots: Shot[];
  let rewrites: Rewrite[];
  try {
    ({ shots, rewrites } = await runTasks(full, built.out, work));
  } finally {
    await full.stop();
  }
  fs.mkdirSync(opts.out, { recursive: true });
  const pages = opts.markdownOnly ? opts.out : path.join(work, 'pages');
  fs.mkdirSync(pages, { recursive: true });
  try {
    for (const shot of shots) {
      const base = shot.file.replace(/\.png$/, '');
      const html = path.join(pages, `${base}.html`);
      const markdown = applyRewrites(shot.run.summaries[0].content ?? '', rewrites);
      fs.writeFileSync(html, renderPage(shot, markdown));
      if (opts.markdownOnly) {
        fs.writeFileSync(path.join(pages, `${base}.md`), markdown);
        console.log(`${path.relative(REPO_ROOT, html)} (${shot.step})`);
        continue;
      }
      const png = path.join(opts.out, shot.file);
      const size = screenshot(chromium!, html, png);
      console.log(
        `${path.relative(REPO_ROOT, png)}: ${size.width}x${size.height}, ${(fs.statSync(png).size / 1024).toFixed(0)} KB (${shot.step})`,
      );
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
