#!/usr/bin/env node
// Bundles every tasks/<Name>V<n>/index.ts into <out>/tasks/<Name>V<n>/index.js (one esbuild
// run for all tasks) and copies task.json and icon.png beside it. Folders without index.ts
// are server tasks (HttpRequest/HttpRequestChain/ServiceBus) and only get task.json + icon.
//
//   node scripts/build.mjs [--tasks-root <dir>] [--out <dir>] [--quiet] [--strict]
//   (env TASKS_ROOT and BUILD_OUT work too; defaults: tasks/ and dist/)
//   A task.json with a Node handler but no index.ts yet is skipped with a warning, or an
//   error with --strict.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NOTICES_FILE, writeThirdPartyNotices } from './third-party-notices.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const NODE_HANDLERS = ['Node24', 'Node20_1', 'Node16', 'Node10', 'Node'];
const SERVER_HANDLERS = ['HttpRequest', 'HttpRequestChain', 'ServiceBus'];
const EXECUTION_KEYS = ['prejobexecution', 'execution', 'postjobexecution'];
// Packages bundled code loads lazily inside try/catch for features the tasks do not use;
// esbuild leaves such calls unresolved instead of failing. Anything else external is an error.
const OPTIONAL_EXTERNALS = new Map([
  [
    'kerberos',
    'native module for Negotiate proxy auth, imported on demand by proxy-agent-negotiate (https-proxy-agent)',
  ],
]);

function parseArgs(argv) {
  const opts = {
    tasksRoot: process.env.TASKS_ROOT || 'tasks',
    out: process.env.BUILD_OUT || 'dist',
    quiet: false,
    strict: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--tasks-root') opts.tasksRoot = argv[++i];
    else if (a === '--out') opts.out = argv[++i];
    else if (a === '--quiet') opts.quiet = true;
    else if (a === '--strict') opts.strict = true;
    else
      throw new Error(
        `Unknown argument ${a}. Usage: build.mjs [--tasks-root <dir>] [--out <dir>] [--quiet] [--strict]`,
      );
  }
  opts.tasksRoot = path.resolve(repoRoot, opts.tasksRoot);
  opts.out = path.resolve(repoRoot, opts.out);
  return opts;
}

/** Every <root>/<folder>/task.json, sorted; folders still without task.json are skipped. */
export function discoverTasks(tasksRoot) {
  if (!fs.existsSync(tasksRoot)) return [];
  return fs
    .readdirSync(tasksRoot, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(tasksRoot, d.name, 'task.json')))
    .map((d) => {
      const dir = path.join(tasksRoot, d.name);
      const taskJsonPath = path.join(dir, 'task.json');
      let taskJson;
      try {
        taskJson = JSON.parse(fs.readFileSync(taskJsonPath, 'utf8'));
      } catch (err) {
        throw new Error(`${path.relative(repoRoot, taskJsonPath)} is not valid JSON: ${err.message}`);
      }
      const entry = path.join(dir, 'index.ts');
      return { folder: d.name, dir, taskJson, entry: fs.existsSync(entry) ? entry : undefined };
    })
    .sort((a, b) => a.folder.localeCompare(b.folder));
}

function handlersOf(taskJson) {
  const out = [];
  for (const key of EXECUTION_KEYS) {
    for (const [handler, spec] of Object.entries(taskJson[key] ?? {})) out.push({ key, handler, spec });
  }
  return out;
}

/** Returns why a Node task cannot be built yet (task.json written before index.ts), or throws. */
function checkKind(task) {
  const handlers = handlersOf(task.taskJson);
  const node = handlers.filter((h) => NODE_HANDLERS.includes(h.handler));
  const server = handlers.filter((h) => SERVER_HANDLERS.includes(h.handler));
  if (task.entry && node.length === 0) {
    throw new Error(`${task.folder}: has index.ts but task.json declares no Node execution handler.`);
  }
  if (!task.entry && node.length > 0)
    return `task.json declares ${node[0].handler} but the folder has no index.ts`;
  if (!task.entry && server.length === 0) {
    throw new Error(`${task.folder}: no index.ts and no HttpRequest/HttpRequestChain/ServiceBus execution.`);
  }
  return undefined;
}

/** Files the agent will try to run must exist in the built folder (what tfx only warns about). */
function checkTargets(task, outDir) {
  const missing = [];
  for (const { key, handler, spec } of handlersOf(task.taskJson)) {
    if (SERVER_HANDLERS.includes(handler)) continue;
    const target = spec?.target;
    if (!target) {
      missing.push(`${key}.${handler}.target is empty`);
      continue;
    }
    const normalized = target.replace(/\$\(\s*currentdirectory\s*\)/i, '.');
    if (/\$\([^)]+\)/.test(normalized)) continue;
    if (!fs.existsSync(path.join(outDir, normalized)))
      missing.push(`${key}.${handler}.target ${target} not built`);
  }
  if (missing.length) throw new Error(`${task.folder}: ${missing.join('; ')}`);
}

function display(p) {
  const rel = path.relative(repoRoot, p);
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? p : rel;
}

function isBuiltin(id) {
  return id.startsWith('node:') || builtinModules.includes(id);
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

export async function build({ tasksRoot, out, quiet = false, strict = false }) {
  const started = Date.now();
  const log = quiet ? () => undefined : (s) => console.log(s);
  const skipped = [];
  const tasks = discoverTasks(tasksRoot).filter((t) => {
    const incomplete = checkKind(t);
    if (!incomplete) return true;
    // Tasks are written in parallel; one without its index.ts yet must not block the others.
    // The manifest tests still fail on it, and --strict makes it an error here.
    if (strict) throw new Error(`${t.folder}: ${incomplete}.`);
    skipped.push(t.folder);
    console.warn(`warning: skipping ${t.folder}: ${incomplete}.`);
    return false;
  });

  const outTasks = path.join(out, 'tasks');
  // Start clean so removed tasks and stale files never reach the package.
  fs.rmSync(outTasks, { recursive: true, force: true });
  fs.mkdirSync(outTasks, { recursive: true });

  const nodeTasks = tasks.filter((t) => t.entry);
  let metafile = { outputs: {} };
  if (nodeTasks.length) {
    const result = await esbuild.build({
      absWorkingDir: repoRoot,
      entryPoints: nodeTasks.map((t) => ({ in: t.entry, out: `tasks/${t.folder}/index` })),
      outdir: out,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      sourcemap: false,
      legalComments: 'none',
      metafile: true,
      logLevel: 'silent',
    });
    for (const w of result.warnings) {
      // Shown, not fatal. task-lib's one dynamic require, require(resourceFile) for the
      // task's own task.json messages, stays a run-time require and works from the bundle.
      const text = (await esbuild.formatMessages([w], { kind: 'warning' })).join('');
      log(text.trimEnd());
    }
    metafile = result.metafile;
  }

  const rows = [];
  for (const task of tasks) {
    const dest = path.join(outTasks, task.folder);
    fs.mkdirSync(dest, { recursive: true });
    fs.copyFileSync(path.join(task.dir, 'task.json'), path.join(dest, 'task.json'));
    const icon = path.join(task.dir, 'icon.png');
    if (!fs.existsSync(icon))
      throw new Error(`${task.folder}: icon.png is missing (scripts/make-icons.mjs makes one).`);
    fs.copyFileSync(icon, path.join(dest, 'icon.png'));
    checkTargets(task, dest);
    const js = path.join(dest, 'index.js');
    rows.push({
      folder: task.folder,
      kind: task.entry ? 'node' : 'server',
      bytes: task.entry ? fs.statSync(js).size : 0,
    });
  }

  // A bundle must not need anything at run time except Node built-ins.
  for (const [file, output] of Object.entries(metafile.outputs)) {
    const external = (output.imports ?? []).filter(
      (i) => i.external && !isBuiltin(i.path) && !OPTIONAL_EXTERNALS.has(i.path),
    );
    if (external.length) {
      const where = display(path.resolve(repoRoot, file));
      throw new Error(`${where} still requires ${external.map((i) => i.path).join(', ')} at run time.`);
    }
  }

  // Licences of everything bundled, shipped in the .vsix by package.mjs; fails on a licence
  // that cannot ship. Written even with no Node task, so packaging never lacks it.
  fs.rmSync(path.join(out, NOTICES_FILE), { force: true });
  const notices = writeThirdPartyNotices({ metafile, out });

  log(
    `Built ${tasks.length} task(s) from ${display(tasksRoot)} into ${display(out)} in ${Date.now() - started} ms`,
  );
  for (const r of rows)
    log(`  ${r.folder.padEnd(34)} ${r.kind.padEnd(6)} ${r.kind === 'node' ? kb(r.bytes) : '-'}`);
  log(`  ${NOTICES_FILE}: ${notices.packages.length} bundled npm package(s)`);
  return { tasks: rows, skipped, out, durationMs: Date.now() - started, notices };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  build(parseArgs(process.argv.slice(2))).catch((err) => {
    console.error(`build failed: ${err.message}`);
    process.exit(1);
  });
}
