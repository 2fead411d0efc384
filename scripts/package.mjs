#!/usr/bin/env node
// Packages a built dist/ into a .vsix with tfx (offline):
//  - writes <dist>/vss-extension.json: the root manifest plus one task contribution and one
//    `files` entry per <dist>/tasks/<Folder>/task.json;
//  - copies images/, overview.md and LICENSE (if present) into <dist>;
//  - ships <dist>/ThirdPartyNotices.txt (written by build.mjs) in the .vsix;
//  - runs `tfx extension create` and fails on any tfx warning about a task.json.
//
//   node scripts/package.mjs [--dist <dir>] [--output <file.vsix>] [--quiet]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NOTICES_FILE } from './third-party-notices.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const TASK_CONTRIBUTION_TYPE = 'ms.vss-distributed-task.task';

function parseArgs(argv) {
  const opts = { dist: 'dist', output: undefined, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dist') opts.dist = argv[++i];
    else if (a === '--output') opts.output = argv[++i];
    else if (a === '--quiet') opts.quiet = true;
    else
      throw new Error(
        `Unknown argument ${a}. Usage: package.mjs [--dist <dir>] [--output <file.vsix>] [--quiet]`,
      );
  }
  opts.dist = path.resolve(repoRoot, opts.dist);
  if (opts.output) opts.output = path.resolve(repoRoot, opts.output);
  return opts;
}

/** DatabricksDeployNotebooks -> databricks-deploy-notebooks, DataFactoryBuildArmTemplate -> data-factory-build-arm-template */
export function kebab(name) {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

function display(p) {
  const rel = path.relative(repoRoot, p);
  return rel.startsWith('..') || path.isAbsolute(rel) ? p : rel;
}

function builtTasks(dist) {
  const root = path.join(dist, 'tasks');
  if (!fs.existsSync(root)) {
    throw new Error(`${display(root)} does not exist: run \`node scripts/build.mjs\` (npm run build) first.`);
  }
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(root, d.name, 'task.json')))
    .map((d) => ({
      folder: d.name,
      taskJson: JSON.parse(fs.readFileSync(path.join(root, d.name, 'task.json'), 'utf8')),
    }))
    .sort((a, b) => a.folder.localeCompare(b.folder));
}

/** The manifest tfx packages: the root one plus the tasks found in dist. */
export function generateManifest(rootManifest, tasks) {
  const manifest = structuredClone(rootManifest);
  delete manifest.$schema;
  const contributions = (manifest.contributions ?? []).filter((c) => c.type !== TASK_CONTRIBUTION_TYPE);
  if (contributions.length !== (manifest.contributions ?? []).length) {
    throw new Error(
      'vss-extension.json must not list task contributions; package.mjs adds them from dist/tasks.',
    );
  }
  const ids = new Set(contributions.map((c) => c.id));
  const files = (manifest.files ?? []).filter((f) => !String(f.path).startsWith('tasks'));
  for (const t of tasks) {
    let id = kebab(t.taskJson.name ?? t.folder);
    // A second major version of the same task ships in its own folder and needs its own id.
    if (ids.has(id)) id = `${id}-v${t.taskJson.version?.Major ?? t.folder.replace(/^.*V(\d+)$/, '$1')}`;
    if (ids.has(id)) throw new Error(`Duplicate contribution id ${id} (task folder ${t.folder}).`);
    ids.add(id);
    contributions.push({
      id,
      description: t.taskJson.description ?? t.taskJson.friendlyName,
      type: TASK_CONTRIBUTION_TYPE,
      targets: ['ms.vss-distributed-task.tasks'],
      properties: { name: `tasks/${t.folder}` },
    });
    files.push({ path: `tasks/${t.folder}` });
  }
  manifest.contributions = contributions;
  manifest.files = files;
  return manifest;
}

function copyDir(src, dest) {
  fs.rmSync(dest, { recursive: true, force: true });
  fs.cpSync(src, dest, { recursive: true });
}

// Fails any network connection tfx might attempt (extension create needs none); unix
// sockets stay allowed. Loaded with --import so it patches net before tfx starts.
const NO_NETWORK =
  "import net from 'node:net';" +
  'const connect = net.Socket.prototype.connect;' +
  'net.Socket.prototype.connect = function (...args) {' +
  "  const o = args[0]; if (o && typeof o === 'object' && o.path) return connect.apply(this, args);" +
  "  throw new Error('tfx tried to open a network connection during packaging');" +
  '};';

function runTfx(args, cwd) {
  const tfxJs = path.join(path.dirname(require.resolve('tfx-cli/package.json')), '_build', 'tfx-cli.js');
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(NO_NETWORK)}`, tfxJs, ...args],
      {
        cwd,
        // TFX_BYPASS_CACHE: never read a saved service URL from ~/.tfx.
        env: { ...process.env, TFX_BYPASS_CACHE: '1', NO_COLOR: '1', FORCE_COLOR: '0', NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: out.replace(/\x1b\[[0-9;]*m/g, '') }));
  });
}

export async function packageExtension({ dist = path.join(repoRoot, 'dist'), output, quiet = false } = {}) {
  const started = Date.now();
  const log = quiet ? () => undefined : (s) => console.log(s);
  const rootManifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'vss-extension.json'), 'utf8'));
  const tasks = builtTasks(dist);
  if (!tasks.length) log('warning: no tasks in dist/tasks; packaging the service connection type only.');
  for (const t of tasks) {
    const dir = path.join(dist, 'tasks', t.folder);
    for (const f of ['icon.png']) {
      if (!fs.existsSync(path.join(dir, f)))
        throw new Error(`${display(dir)} has no ${f}: rebuild with scripts/build.mjs.`);
    }
  }

  const manifest = generateManifest(rootManifest, tasks);
  copyDir(path.join(repoRoot, 'images'), path.join(dist, 'images'));
  fs.copyFileSync(path.join(repoRoot, 'overview.md'), path.join(dist, 'overview.md'));
  if (fs.existsSync(path.join(repoRoot, 'LICENSE'))) {
    fs.copyFileSync(path.join(repoRoot, 'LICENSE'), path.join(dist, 'LICENSE'));
    manifest.content = { ...manifest.content, license: { path: 'LICENSE' } };
  }
  // The licences of the bundled packages must travel with them.
  if (!fs.existsSync(path.join(dist, NOTICES_FILE))) {
    throw new Error(`${display(path.join(dist, NOTICES_FILE))} is missing: rebuild with scripts/build.mjs.`);
  }
  manifest.files = [...(manifest.files ?? []), { path: NOTICES_FILE }];
  fs.writeFileSync(path.join(dist, 'vss-extension.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const vsix = output ?? path.join(dist, `${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`);
  fs.rmSync(vsix, { force: true });
  const { code, output: tfxOutput } = await runTfx(
    [
      'extension',
      'create',
      '--root',
      dist,
      '--manifest-globs',
      'vss-extension.json',
      '--output-path',
      vsix,
      '--no-prompt',
      '--no-color',
    ],
    dist,
  );
  const lines = tfxOutput.split(/\r?\n/);
  const warnings = lines.filter((l) => /^\s*warning:/i.test(l));
  // tfx prefixes every line of a multi-line warning with "warning:", so one match is enough.
  const taskWarnings = warnings.filter((l) => /task\.json|task runner|\.target/i.test(l));
  if (code !== 0 || !fs.existsSync(vsix)) {
    throw new Error(`tfx extension create failed (exit ${code}):\n${tfxOutput.trim()}`);
  }
  if (taskWarnings.length) {
    fs.rmSync(vsix, { force: true });
    throw new Error(`tfx reported task.json problems:\n${warnings.join('\n')}`);
  }
  for (const w of warnings) log(`tfx ${w.trim()}`);

  const bytes = fs.statSync(vsix).size;
  log(
    `Packaged ${tasks.length} task(s) into ${display(vsix)} (${(bytes / 1024).toFixed(1)} KB) in ${Date.now() - started} ms`,
  );
  return { vsix, bytes, manifest, tasks: tasks.map((t) => t.folder) };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    await packageExtension(parseArgs(process.argv.slice(2)));
  } catch (err) {
    console.error(`package failed: ${err.message}`);
    process.exit(1);
  }
}
