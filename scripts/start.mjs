#!/usr/bin/env node
// npm start: bundle the tasks, package the .vsix, then run the task steps of
// samples/azure-pipelines.yml (Build, Dev, Test, and Prod's gate) against the embedded
// emulator exactly as the agent runs them, and end with a table of steps, results,
// durations and the .vsix path. See scripts/sample-pipeline.ts.
//
//   node scripts/start.mjs [--verbose] [--summaries] [--keep]
//     --verbose    also show debug output
//     --summaries  also print the markdown summaries the tasks upload
//     --keep       keep the agent folders of the run (their path is printed)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { require as tsxRequire } from 'tsx/cjs/api';
import { build } from './build.mjs';
import { packageExtension } from './package.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FLAGS = ['--verbose', '--summaries', '--keep'];

function parseArgs(argv) {
  for (const a of argv) {
    if (!FLAGS.includes(a)) throw new Error(`Unknown argument ${a}. Usage: start.mjs [${FLAGS.join('] [')}]`);
  }
  return argv;
}

function section(title) {
  console.log(`\n== ${title}`);
}

async function main() {
  const flags = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const dist = path.join(repoRoot, 'dist');

  section('Build');
  await build({ tasksRoot: path.join(repoRoot, 'tasks'), out: dist });

  section('Package');
  const pkg = await packageExtension({ dist });
  const vsix = `${path.relative(repoRoot, pkg.vsix)} (${(pkg.bytes / 1024).toFixed(0)} KB)`;

  section('Sample pipeline: samples/azure-pipelines.yml on the embedded emulator');
  // The runner is TypeScript (it shares the emulator and agent harness with the tests).
  const flow = tsxRequire('./sample-pipeline.ts', import.meta.url);
  const code = await flow.main(['--dist', dist, '--vsix', vsix, ...flags]);
  console.log(`npm start took ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  process.exit(code);
}

main().catch((err) => {
  console.error(`\nnpm start failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
