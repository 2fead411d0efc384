#!/usr/bin/env node
// Third-party notices for the bundled tasks. esbuild's metafile says which files of which
// npm packages ended up in each bundle (bytesInOutput > 0); for each such package this reads
// its package.json (name, version, licence, repository) and its licence and notice files and
// renders ThirdPartyNotices.txt, which scripts/package.mjs ships in the .vsix.
//
// Licences are checked against an allow-list of permissive licences: a bundled package with
// no declared licence or another licence fails the build, so nothing copyleft or unlicensed
// ships by accident. Extend ALLOWED_LICENSES only after checking the licence's terms.
//
//   import { collectBundledPackages, renderNotices, writeThirdPartyNotices } from './third-party-notices.mjs'
//   node scripts/third-party-notices.mjs [--tasks-root <dir>] [--out <file>]   (bundles to a temp dir)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const NOTICES_FILE = 'ThirdPartyNotices.txt';

/** SPDX ids whose terms allow bundling and redistribution with a notice. */
export const ALLOWED_LICENSES = new Set([
  'MIT',
  'ISC',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'Apache-2.0',
  '0BSD',
  'BlueOak-1.0.0',
  'CC0-1.0',
  'Unlicense',
  'Python-2.0',
]);

const LICENSE_FILE = /^(licen[cs]e|copying|notice|third-?party-?notices?)([-._][^/]*)?$/i;

// Standard texts for packages that declare a licence but ship no licence file.
const STANDARD_TEXTS = {
  MIT: (holder) =>
    `MIT License

Copyright (c) ${holder}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.`,
};

/** "node_modules/a/node_modules/@s/b/lib/x.js" → "node_modules/a/node_modules/@s/b" (the innermost package). */
export function packageRootOf(input) {
  const norm = input.replace(/\\/g, '/');
  const m = /^(.*node_modules\/)((?:@[^/]+\/)?[^/]+)\//.exec(norm);
  return m ? m[1] + m[2] : undefined;
}

/** The SPDX expression a package.json declares (license string, {type}, or legacy licenses[]). */
export function declaredLicense(pkg) {
  const l = pkg.license ?? pkg.licenses;
  if (typeof l === 'string') return l.trim();
  if (Array.isArray(l)) {
    const types = l.map((x) => (typeof x === 'string' ? x : x?.type)).filter(Boolean);
    return types.length > 1 ? `(${types.join(' OR ')})` : (types[0] ?? '');
  }
  if (l && typeof l === 'object' && typeof l.type === 'string') return l.type;
  return '';
}

/** Whether an SPDX expression is acceptable: OR needs one allowed side, AND needs all. */
export function isAllowedLicense(expr, allowed = ALLOWED_LICENSES) {
  const e = expr.trim().replace(/^\((.*)\)$/, '$1');
  if (!e) return false;
  const or = e.split(/\s+OR\s+/i);
  if (or.length > 1) return or.some((x) => isAllowedLicense(x, allowed));
  const and = e.split(/\s+AND\s+/i);
  if (and.length > 1) return and.every((x) => isAllowedLicense(x, allowed));
  return allowed.has(e.replace(/\+$/, ''));
}

function personName(p) {
  if (!p) return undefined;
  if (typeof p === 'string') return p.replace(/\s*[<(].*$/, '').trim() || undefined;
  return p.name;
}

function repositoryUrl(pkg) {
  const r = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  if (!r) return pkg.homepage;
  // github:owner/repo and owner/repo shorthands.
  if (/^(github:)?[\w.-]+\/[\w.-]+$/.test(r)) return `https://github.com/${r.replace(/^github:/, '')}`;
  return r
    .replace(/^git\+/, '')
    .replace(/^git:\/\//, 'https://')
    .replace(/\.git$/, '');
}

/** The "License" section of a README, when a package ships no licence file. */
function readmeLicenseSection(dir) {
  const readme = fs.readdirSync(dir).find((f) => /^readme(\.md|\.markdown|\.txt)?$/i.test(f));
  if (!readme) return undefined;
  const lines = fs.readFileSync(path.join(dir, readme), 'utf8').split(/\r?\n/);
  const start = lines.findIndex(
    (l, i) => /^#*\s*licen[cs]e\s*$/i.test(l) || (/^licen[cs]e$/i.test(l) && /^-+$/.test(lines[i + 1] ?? '')),
  );
  if (start < 0) return undefined;
  const body = [];
  for (let i = start + 1; i < lines.length; i++) {
    if (/^#/.test(lines[i]) || (/^\S/.test(lines[i]) && /^[-=]{3,}$/.test(lines[i + 1] ?? ''))) break;
    if (/^-+$/.test(lines[i]) && body.length === 0) continue;
    body.push(lines[i]);
  }
  const text = body
    .join('\n')
    .trim()
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
  // A bare licence name says no more than package.json does.
  return text.split('\n').length > 3 ? text : undefined;
}

function readPackage(root) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const files = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isFile() && LICENSE_FILE.test(d.name))
    .map((d) => d.name)
    .sort(
      (a, b) =>
        (/^notice|^third/i.test(a) ? 1 : 0) - (/^notice|^third/i.test(b) ? 1 : 0) || a.localeCompare(b),
    );
  const texts = files.map((f) => ({
    source: f,
    text: fs.readFileSync(path.join(root, f), 'utf8').replace(/\r\n/g, '\n').trim(),
  }));
  const license = declaredLicense(pkg);
  if (!texts.length) {
    const fromReadme = readmeLicenseSection(root);
    if (fromReadme) texts.push({ source: 'README (License section)', text: fromReadme });
    else {
      const standard = STANDARD_TEXTS[license];
      const holder = personName(pkg.author) ?? `the ${pkg.name} authors`;
      if (standard)
        texts.push({
          source: `standard ${license} text (the package ships no licence file; package.json declares ${license})`,
          text: standard(holder),
        });
    }
  }
  return {
    name: pkg.name,
    version: pkg.version,
    license,
    repository: repositoryUrl(pkg),
    author: personName(pkg.author),
    texts,
  };
}

/**
 * Every npm package with code in the bundles, from esbuild's metafile: name, version,
 * licence, licence texts and the output files (bundles) it is in. Sorted by name and version.
 */
export function collectBundledPackages(metafile, { root = repoRoot } = {}) {
  const byRoot = new Map();
  for (const [output, info] of Object.entries(metafile.outputs ?? {})) {
    for (const [input, use] of Object.entries(info.inputs ?? {})) {
      if (!use.bytesInOutput) continue;
      const pkgRoot = packageRootOf(input);
      if (!pkgRoot) continue;
      let entry = byRoot.get(pkgRoot);
      if (!entry) {
        entry = { root: pkgRoot, bundles: new Set(), bytes: 0 };
        byRoot.set(pkgRoot, entry);
      }
      entry.bundles.add(output.replace(/\\/g, '/'));
      entry.bytes += use.bytesInOutput;
    }
  }
  const packages = [];
  const seen = new Map();
  for (const e of byRoot.values()) {
    const info = readPackage(path.resolve(root, e.root));
    const key = `${info.name}@${info.version}`;
    // The same version installed twice (nested copies) is one notice.
    const existing = seen.get(key);
    if (existing) {
      for (const b of e.bundles) existing.bundles.push(b);
      existing.bundles = [...new Set(existing.bundles)].sort();
      existing.bytes += e.bytes;
      continue;
    }
    const p = { ...info, path: e.root, bundles: [...e.bundles].sort(), bytes: e.bytes };
    seen.set(key, p);
    packages.push(p);
  }
  return packages.sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

/** Packages whose licence is missing or not on the allow-list, with the reason. */
export function licenseProblems(packages, allowed = ALLOWED_LICENSES) {
  const problems = [];
  for (const p of packages) {
    if (!p.license) problems.push(`${p.name}@${p.version} (${p.path}) declares no licence`);
    else if (!isAllowedLicense(p.license, allowed))
      problems.push(
        `${p.name}@${p.version} (${p.path}) is licensed ${p.license}, which is not on the allow-list`,
      );
    else if (!p.texts.length)
      problems.push(
        `${p.name}@${p.version} (${p.path}) ships no licence text and ${p.license} has no standard text here`,
      );
  }
  return problems;
}

function bundleName(output) {
  // "dist/tasks/DatabricksRunNotebookV1/index.js" → "DatabricksRunNotebookV1"
  const m = /tasks\/([^/]+)\/index\.js$/.exec(output);
  return m ? m[1] : output;
}

export function renderNotices(packages, { product = 'this extension' } = {}) {
  const rule = '='.repeat(78);
  const out = [
    'THIRD-PARTY SOFTWARE NOTICES AND INFORMATION',
    '',
    product,
    '',
    'The tasks of this extension are bundled with esbuild and include code from the npm',
    'packages listed below. Each is distributed under the licence shown with it; the',
    'licence and notice texts follow, as shipped in each package. Generated by',
    'scripts/third-party-notices.mjs from the bundler metafile; do not edit by hand.',
    '',
    `${packages.length} package(s):`,
    '',
  ];
  packages.forEach((p, i) => {
    out.push(
      `${String(i + 1).padStart(3)}. ${p.name} ${p.version} (${p.license})${p.repository ? ` ${p.repository}` : ''}`,
    );
  });
  for (const p of packages) {
    out.push('', rule, `${p.name} ${p.version}`, `License: ${p.license}`);
    if (p.repository) out.push(`Source: ${p.repository}`);
    out.push(`Bundled in: ${p.bundles.map(bundleName).join(', ')}`);
    for (const t of p.texts) out.push('', `--- ${t.source} ---`, '', t.text);
  }
  out.push('', rule, '');
  return out.join('\n');
}

/**
 * Collects the bundled packages from a metafile, checks their licences and writes
 * <out>/ThirdPartyNotices.txt. Throws (naming each package) when a licence is not allowed.
 */
export function writeThirdPartyNotices({ metafile, out, root = repoRoot, product }) {
  const packages = collectBundledPackages(metafile, { root });
  const problems = licenseProblems(packages);
  if (problems.length) {
    throw new Error(
      `bundled packages with licences that cannot ship:\n  ${problems.join('\n  ')}\n` +
        'Replace the dependency, or add its licence to ALLOWED_LICENSES in scripts/third-party-notices.mjs after a review.',
    );
  }
  let name = product;
  if (!name) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(root, 'vss-extension.json'), 'utf8'));
      name = `${manifest.name} ${manifest.version}`;
    } catch {
      name = 'this extension';
    }
  }
  const file = path.join(out, NOTICES_FILE);
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(file, renderNotices(packages, { product: name }), 'utf8');
  return { file, packages };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  // Standalone: bundle into a temp folder with build.mjs and print where the notice went.
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'notices-'));
  try {
    const { build } = await import(pathToFileURL(path.join(repoRoot, 'scripts', 'build.mjs')).href);
    const result = await build({
      tasksRoot: path.resolve(repoRoot, opt('--tasks-root', 'tasks')),
      out: tmp,
      quiet: true,
    });
    const target = path.resolve(repoRoot, opt('--out', NOTICES_FILE));
    fs.copyFileSync(path.join(tmp, NOTICES_FILE), target);
    console.log(`${result.notices.packages.length} bundled package(s); notices written to ${target}`);
    for (const p of result.notices.packages) console.log(`  ${p.name}@${p.version} ${p.license}`);
  } catch (err) {
    console.error(`third-party notices failed: ${err.message}`);
    process.exitCode = 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
