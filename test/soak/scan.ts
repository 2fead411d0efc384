/**
 * A strict secret scan of everything a task execution wrote: stdout (every line but the
 * two agent commands that hand a secret over: task.setsecret and setvariable issecret=true),
 * stderr, the task result message, summaries, published test results, uploaded files and
 * every file left in the agent's work folder. Looks for each secret raw, URL-encoded,
 * JSON-escaped and base64-encoded; for JWTs also the signature alone; for PEM private keys
 * also each line of the key; for other secrets of 16 characters or more also their first
 * half, which is what survives when a message is cut short before it is redacted. Reports
 * where, never the secret.
 *
 * Needs the run's work folder: run the task with keepWorkFolder, then call run.cleanup().
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TaskRun } from '../harness/run-task';
import { parseVsoLine } from '../harness/vso';

const MIN_LENGTH = 8;

interface Needle {
  which: number;
  form: string;
  text: string;
}

/** The forms in which a secret could show up. */
export function needles(secrets: string[]): Needle[] {
  const out: Needle[] = [];
  const seen = new Set<string>();
  const add = (which: number, form: string, text: string) => {
    if (text.length < MIN_LENGTH || seen.has(text)) return;
    seen.add(text);
    out.push({ which, form, text });
  };
  secrets.forEach((s, which) => {
    if (!s || s.length < 4) return;
    add(which, 'raw', s);
    add(which, 'url-encoded', encodeURIComponent(s));
    add(which, 'json-escaped', JSON.stringify(s).slice(1, -1));
    add(which, 'base64', Buffer.from(s).toString('base64').replace(/=+$/, ''));
    const jwt = /^[\w-]+\.[\w-]+\.([\w-]{20,})$/.exec(s);
    if (jwt) add(which, 'JWT signature', jwt[1]);
    // A JWT starts with its (public) header and a PEM with its (public) certificate.
    if (!jwt && !s.includes('-----BEGIN') && s.length >= 16)
      add(which, 'first half', s.slice(0, Math.ceil(s.length / 2)));
    const key = /-----BEGIN [A-Z ]*PRIVATE KEY-----([\s\S]+?)-----END [A-Z ]*PRIVATE KEY-----/.exec(s);
    if (key) {
      for (const line of key[1].split(/\r?\n/).map((l) => l.trim())) {
        if (line.length >= 40) add(which, 'private key line', line);
      }
    }
  });
  return out;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function isSecretHandOver(line: string): boolean {
  const cmd = parseVsoLine(line);
  if (!cmd) return false;
  if (cmd.command === 'task.setsecret') return true;
  return (
    cmd.command === 'task.setvariable' &&
    Object.entries(cmd.properties).some(
      ([k, v]) => k.toLowerCase() === 'issecret' && v.toLowerCase() === 'true',
    )
  );
}

/**
 * Leaks as "secret #2 (base64) in stdout line 14"; empty when clean. Removes the work folder
 * afterwards when `cleanup` (default true).
 */
export function scanRun(run: TaskRun, secrets: string[], opts: { cleanup?: boolean } = {}): string[] {
  const ns = needles(secrets);
  const leaks: string[] = [];
  const check = (where: string, text: string | Buffer) => {
    for (const n of ns) {
      const hit = typeof text === 'string' ? text.includes(n.text) : text.includes(Buffer.from(n.text));
      if (hit) leaks.push(`secret #${n.which} (${n.form}) in ${where}`);
    }
  };
  run.stdoutLines.forEach((line, i) => {
    if (!isSecretHandOver(line)) check(`stdout line ${i + 1}`, line);
  });
  run.stderr.split(/\r?\n/).forEach((line, i) => check(`stderr line ${i + 1}`, line));
  check('the result message', run.result?.message ?? '');
  for (const s of run.summaries) check(`summary ${path.basename(s.path)}`, s.content ?? '');
  for (const p of run.publishedTestResults)
    for (const f of p.files) check(`published test results ${path.basename(f.path)}`, f.content ?? '');
  for (const u of run.uploads) check(`${u.kind} upload ${path.basename(u.path)}`, u.content ?? '');
  const root = path.dirname(run.workFolder);
  for (const f of listFiles(root)) {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(f);
    } catch {
      continue;
    }
    check(`file ${path.relative(root, f)}`, buf);
  }
  if (opts.cleanup ?? true) run.cleanup();
  return [...new Set(leaks)];
}
