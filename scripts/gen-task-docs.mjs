#!/usr/bin/env node
// Generates the task reference (every task, input, default and output variable) from
// tasks/*/task.json and writes it into README.md between <!-- tasks:begin --> and
// <!-- tasks:end -->, so the README can never disagree with what the tasks accept.
//
//   node scripts/gen-task-docs.mjs            rewrite the README region
//   node scripts/gen-task-docs.mjs --check    exit 1 when the README region is stale
//   node scripts/gen-task-docs.mjs --stdout   print the generated region only
//   options: --readme <file> (default README.md), --tasks-root <dir> (default tasks/)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverTasks } from './build.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const BEGIN_MARKER = '<!-- tasks:begin -->';
export const END_MARKER = '<!-- tasks:end -->';
const MAX_HELP = 240;

const NODE_HANDLERS = ['Node24', 'Node20_1', 'Node16', 'Node10', 'Node'];
const SERVER_HANDLERS = ['HttpRequest', 'HttpRequestChain', 'ServiceBus'];

/** Text safe inside a GitHub table cell: one line, pipes escaped. */
function cell(text) {
  return String(text ?? '')
    .replace(/\r?\n+/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
}

function code(text) {
  const s = String(text);
  // A backtick inside needs a longer fence.
  return s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``;
}

/**
 * The help text cut to about MAX_HELP characters at a sentence end outside code spans:
 * links become their text, so the table stays readable in the Marketplace too.
 */
export function shortenHelp(markdown) {
  const text = String(markdown ?? '')
    .replace(/\[([^\]]+)\]\([^)]+\)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  if (text.length <= MAX_HELP) return text;
  let inCode = false;
  let lastEnd = -1;
  for (let i = 0; i < text.length && i < MAX_HELP; i++) {
    if (text[i] === '`') inCode = !inCode;
    else if (!inCode && /[.!?]/.test(text[i]) && (i + 1 === text.length || text[i + 1] === ' ')) {
      // "e.g." and "i.e." do not end a sentence.
      if (!/\b(e\.g|i\.e|etc|vs)\.$/i.test(text.slice(Math.max(0, i - 4), i + 1))) lastEnd = i;
    }
  }
  if (lastEnd > 40) return text.slice(0, lastEnd + 1);
  // No sentence end early enough: cut at a word boundary outside code spans.
  let cut = text.lastIndexOf(' ', MAX_HELP);
  while (cut > 0 && (text.slice(0, cut).match(/`/g) ?? []).length % 2 === 1)
    cut = text.lastIndexOf(' ', cut - 1);
  return `${text.slice(0, cut > 0 ? cut : MAX_HELP)} …`;
}

function typeOf(input) {
  const type = String(input.type ?? 'string');
  if (type === 'pickList' || type === 'radio') {
    const options = Object.keys(input.options ?? {});
    const editable = String(input.properties?.EditableOptions ?? '').toLowerCase() === 'true';
    const list = options.map(code).join(', ');
    return `${type}${options.length ? `: ${list}` : ''}${editable ? ' (or any value)' : ''}`;
  }
  return code(type);
}

function runsOnText(taskJson) {
  const handlers = Object.keys(taskJson.execution ?? {});
  const runsOn = taskJson.runsOn ?? ['Agent'];
  if (handlers.some((h) => SERVER_HANDLERS.includes(h))) {
    const gate = runsOn.includes('ServerGate');
    const agentless = runsOn.includes('Server');
    return agentless && gate
      ? 'agentless job (`pool: server`) or release gate'
      : gate
        ? 'release gate'
        : 'agentless job (`pool: server`)';
  }
  const node = handlers.filter((h) => NODE_HANDLERS.includes(h));
  const versions = node.map((h) => h.replace(/^Node/, '').replace(/_\d+$/, '')).filter(Boolean);
  return `agent${versions.length ? ` (Node ${versions.sort().join(' or ')})` : ''}`;
}

/** GitHub's heading anchor for "### Name@1". */
function anchor(heading) {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

/** The markdown for the given tasks (from build.mjs discoverTasks), without the markers. */
export function renderTaskReference(tasks) {
  const list = tasks
    .map((t) => t.taskJson)
    .filter((j) => j && j.name && j.version)
    .sort((a, b) => `${a.name}@${a.version.Major}`.localeCompare(`${b.name}@${b.version.Major}`));
  const out = [];
  out.push(
    '<!-- Generated from tasks/*/task.json by `node scripts/gen-task-docs.mjs`; edit the task.json files, not this section. A test fails when it is stale. -->',
    '',
  );
  if (list.length === 0) {
    out.push('No task has a task.json yet.');
    return out.join('\n');
  }
  out.push('| Task | Runs in | What it does |', '|---|---|---|');
  for (const j of list) {
    const ref = `${j.name}@${j.version.Major}`;
    out.push(`| [${code(ref)}](#${anchor(ref)}) | ${cell(runsOnText(j))} | ${cell(j.description)} |`);
  }
  for (const j of list) {
    const ref = `${j.name}@${j.version.Major}`;
    out.push('', `### ${ref}`, '');
    const v = j.version;
    out.push(
      `**${cell(j.friendlyName ?? j.name)}** (version ${v.Major}.${v.Minor ?? 0}.${v.Patch ?? 0}), runs in: ${runsOnText(j)}.`,
      '',
    );
    if (j.description) out.push(cell(j.description), '');
    const inputs = j.inputs ?? [];
    if (inputs.length) {
      out.push(
        '| Input | Type | Required | Default | Shown when | Description |',
        '|---|---|---|---|---|---|',
      );
      for (const i of inputs) {
        const hasDefault = i.defaultValue !== undefined && String(i.defaultValue) !== '';
        const aliases = (i.aliases ?? []).length ? ` (alias ${i.aliases.map(code).join(', ')})` : '';
        out.push(
          `| ${code(i.name)}${aliases} | ${typeOf(i)} | ${i.required ? 'yes' : 'no'} | ${hasDefault ? code(cell(i.defaultValue)) : ''} | ${i.visibleRule ? code(cell(i.visibleRule)) : ''} | ${cell(shortenHelp(i.helpMarkDown || i.label || ''))} |`,
        );
      }
      out.push('');
    } else {
      out.push('No inputs.', '');
    }
    const outputs = j.outputVariables ?? [];
    if (outputs.length) {
      out.push('Output variables:', '', '| Variable | Description |', '|---|---|');
      for (const o of outputs) out.push(`| ${code(o.name)} | ${cell(shortenHelp(o.description ?? ''))} |`);
    } else {
      out.push('No output variables.');
    }
  }
  return out.join('\n');
}

/** text with the region between the markers replaced by content; throws when the markers are missing. */
export function replaceRegion(text, content, file = 'README.md') {
  const begin = text.indexOf(BEGIN_MARKER);
  const end = text.indexOf(END_MARKER);
  if (begin < 0 || end < 0 || end < begin) {
    throw new Error(`${file} has no ${BEGIN_MARKER} … ${END_MARKER} region (put it under "## Tasks").`);
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const body = content.split('\n').join(eol);
  return `${text.slice(0, begin + BEGIN_MARKER.length)}${eol}${body}${eol}${text.slice(end)}`;
}

/** Renders the reference and compares it with (or writes it into) the README. */
export function generate({
  readme = path.join(repoRoot, 'README.md'),
  tasksRoot = path.join(repoRoot, 'tasks'),
  check = false,
} = {}) {
  const content = renderTaskReference(discoverTasks(tasksRoot));
  const current = fs.readFileSync(readme, 'utf8');
  const next = replaceRegion(current, content, path.relative(repoRoot, readme) || readme);
  const stale = next !== current;
  if (stale && !check) fs.writeFileSync(readme, next, 'utf8');
  return { stale, content, readme };
}

function parseArgs(argv) {
  const opts = { check: false, stdout: false, readme: undefined, tasksRoot: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check') opts.check = true;
    else if (a === '--stdout') opts.stdout = true;
    else if (a === '--readme') opts.readme = path.resolve(argv[++i]);
    else if (a === '--tasks-root') opts.tasksRoot = path.resolve(argv[++i]);
    else
      throw new Error(
        `Unknown argument ${a}. Usage: gen-task-docs.mjs [--check | --stdout] [--readme <file>] [--tasks-root <dir>]`,
      );
  }
  return opts;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    if (opts.stdout) {
      console.log(renderTaskReference(discoverTasks(opts.tasksRoot ?? path.join(repoRoot, 'tasks'))));
    } else {
      const r = generate({ readme: opts.readme, tasksRoot: opts.tasksRoot, check: opts.check });
      const rel = path.relative(repoRoot, r.readme);
      if (opts.check && r.stale) {
        console.error(
          `${rel}: the task reference is stale; run \`node scripts/gen-task-docs.mjs\` and commit the result.`,
        );
        process.exit(1);
      }
      console.log(
        opts.check
          ? `${rel}: the task reference is up to date.`
          : r.stale
            ? `Updated the task reference in ${rel}.`
            : `${rel} was already up to date.`,
      );
    }
  } catch (err) {
    console.error(`gen-task-docs failed: ${err.message}`);
    process.exit(1);
  }
}
