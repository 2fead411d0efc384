/**
 * Builds a tasks root with scripts/build.mjs (and optionally packages it) once per test
 * process, into a temp folder, so several test files share one esbuild/tfx run and never
 * touch the developer's dist/.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './run-task';

export const TASKS_ROOT = path.join(REPO_ROOT, 'tasks');
export const FIXTURE_TASKS_ROOT = path.join(REPO_ROOT, 'test', 'fixtures', 'tasks');

export interface BuiltTask {
  folder: string;
  kind: 'node' | 'server';
  bytes: number;
}

export interface BuildOutput {
  out: string;
  tasks: BuiltTask[];
  durationMs: number;
}

export interface PackageOutput {
  vsix: string;
  bytes: number;
  manifest: Record<string, unknown> & {
    contributions: { id: string; type: string; properties: Record<string, unknown> }[];
  };
  tasks: string[];
}

interface BuildModule {
  build(opts: { tasksRoot: string; out: string; quiet?: boolean }): Promise<BuildOutput>;
  discoverTasks(
    tasksRoot: string,
  ): { folder: string; dir: string; taskJson: Record<string, unknown>; entry?: string }[];
}

interface PackageModule {
  packageExtension(opts: { dist: string; output?: string; quiet?: boolean }): Promise<PackageOutput>;
  generateManifest(
    root: Record<string, unknown>,
    tasks: { folder: string; taskJson: Record<string, unknown> }[],
  ): PackageOutput['manifest'];
  kebab(name: string): string;
}

// Variables, so TypeScript leaves these untyped .mjs imports alone.
const buildScript = pathToFileURL(path.join(REPO_ROOT, 'scripts', 'build.mjs')).href;
const packageScript = pathToFileURL(path.join(REPO_ROOT, 'scripts', 'package.mjs')).href;

export const loadBuildScript = (): Promise<BuildModule> => import(buildScript) as Promise<BuildModule>;
export const loadPackageScript = (): Promise<PackageModule> =>
  import(packageScript) as Promise<PackageModule>;

const builds = new Map<string, Promise<BuildOutput>>();
const packages = new Map<string, Promise<PackageOutput>>();
const tempDirs: string[] = [];

process.on('exit', () => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

export function buildOnce(tasksRoot: string): Promise<BuildOutput> {
  let p = builds.get(tasksRoot);
  if (!p) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'azp-build-'));
    tempDirs.push(out);
    p = loadBuildScript().then((m) => m.build({ tasksRoot, out, quiet: true }));
    builds.set(tasksRoot, p);
  }
  return p;
}

export function packageOnce(tasksRoot: string): Promise<PackageOutput & { build: BuildOutput }> {
  let p = packages.get(tasksRoot);
  if (!p) {
    p = buildOnce(tasksRoot).then(async (b) =>
      (await loadPackageScript()).packageExtension({ dist: b.out, quiet: true }),
    );
    packages.set(tasksRoot, p);
  }
  return p.then(async (pkg) => ({ ...pkg, build: await buildOnce(tasksRoot) }));
}
