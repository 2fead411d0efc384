/**
 * Builds the Jobs API runs/submit body: one notebook task per path, run in
 * parallel (no depends_on), on serverless, an existing cluster or a new cluster.
 */
import { hasControlChar, printable } from '../path-text';

export type ClusterChoice =
  | { kind: 'serverless' }
  | { kind: 'existing'; clusterId: string }
  | { kind: 'new'; spec: Record<string, unknown> };

export interface SubmitSpecInput {
  notebooks: readonly string[];
  parameters: Readonly<Record<string, string>>;
  cluster: ClusterChoice;
  runName: string;
  idempotencyToken: string;
  /**
   * Server-side limit for the whole run, in seconds (0 = none). The task cancels
   * the run itself at its timeout; this is a backstop for an agent that vanishes.
   */
  timeoutSeconds?: number;
}

export interface NotebookTaskSpec {
  task_key: string;
  notebook_task: { notebook_path: string; source: 'WORKSPACE'; base_parameters?: Record<string, string> };
  existing_cluster_id?: string;
  new_cluster?: Record<string, unknown>;
}

export interface SubmitRunRequest {
  run_name: string;
  idempotency_token: string;
  timeout_seconds?: number;
  tasks: NotebookTaskSpec[];
}

export function buildSubmitSpec(input: SubmitSpecInput): SubmitRunRequest {
  const keys = taskKeysFor(input.notebooks);
  const hasParams = Object.keys(input.parameters).length > 0;
  const tasks = input.notebooks.map((path, i): NotebookTaskSpec => {
    const task: NotebookTaskSpec = {
      task_key: keys[i],
      notebook_task: { notebook_path: path, source: 'WORKSPACE' },
    };
    if (hasParams) task.notebook_task.base_parameters = { ...input.parameters };
    if (input.cluster.kind === 'existing') task.existing_cluster_id = input.cluster.clusterId;
    if (input.cluster.kind === 'new') task.new_cluster = structuredClone(input.cluster.spec);
    return task;
  });
  const body: SubmitRunRequest = {
    run_name: truncateName(input.runName),
    idempotency_token: input.idempotencyToken,
    tasks,
  };
  if (input.timeoutSeconds && input.timeoutSeconds > 0)
    body.timeout_seconds = Math.ceil(input.timeoutSeconds);
  return body;
}

const MAX_TASK_KEY = 100;

/**
 * Task keys from notebook paths: the notebook name with characters outside
 * [A-Za-z0-9_-] replaced; the parent folders are added when names collide, then
 * a counter. Keys are unique and at most 100 characters.
 */
export function taskKeysFor(paths: readonly string[]): string[] {
  const segmentsOf = (p: string) => p.split('/').filter((s) => s.length > 0);
  const depth = paths.map(() => 1);
  // Grow the number of trailing segments for colliding keys until unique or exhausted.
  for (let round = 0; round < 64; round++) {
    const keys = paths.map((p, i) => sanitize(segmentsOf(p).slice(-depth[i]).join('_')));
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
    let grew = false;
    keys.forEach((k, i) => {
      if ((counts.get(k) ?? 0) > 1 && depth[i] < segmentsOf(paths[i]).length) {
        depth[i]++;
        grew = true;
      }
    });
    if (!grew) break;
  }
  const used = new Set<string>();
  return paths.map((p, i) => {
    const base = sanitize(segmentsOf(p).slice(-depth[i]).join('_'));
    let key = base;
    for (let n = 2; used.has(key); n++) key = clip(base, `_${n}`);
    used.add(key);
    return key;
  });
}

function sanitize(s: string): string {
  const cleaned = s.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
  return clip(cleaned || 'notebook', '');
}

function clip(base: string, suffix: string): string {
  const room = MAX_TASK_KEY - suffix.length;
  // Keep the end of long keys: the notebook name is the informative part.
  return (base.length > room ? base.slice(base.length - room) : base) + suffix;
}

function truncateName(name: string): string {
  const trimmed = name.trim() || 'Azure DevOps notebook run';
  return trimmed.length > 256 ? trimmed.slice(0, 255) + '…' : trimmed;
}

export interface NotebookPathCheck {
  paths: string[];
  warnings: string[];
}

/**
 * Reads the notebookPath input: one absolute workspace path per line. Throws with
 * a message naming the input (Input 'notebookPath' …) when it is empty, a path is
 * relative, has '.' or '..' segments or control characters, or one is repeated.
 */
export function parseNotebookPaths(input: string | undefined, inputName = 'notebookPath'): NotebookPathCheck {
  const lines = (input ?? '')
    .split(/\r?\n/)
    .map((text, i) => ({ text: text.trim(), line: i + 1 }))
    .filter((l) => l.text.length > 0 && !l.text.startsWith('#'));
  if (lines.length === 0) {
    throw new Error(
      `Input '${inputName}' is empty: give one workspace notebook path per line, e.g. /Shared/tests/smoke_test`,
    );
  }
  const warnings: string[] = [];
  const seen = new Set<string>();
  for (const { text: p, line } of lines) {
    // First, so no other message echoes the raw characters.
    if (hasControlChar(p)) {
      throw new Error(
        `Input '${inputName}' line ${line}: "${printable(p)}" contains a control character; notebook paths cannot. Check the line for pasted or hidden characters.`,
      );
    }
    if (!p.startsWith('/')) {
      throw new Error(
        `Input '${inputName}': "${p}" is not an absolute workspace path. Write it from the workspace root, e.g. /Shared/tests/${p.replace(/^\.?\/*/, '')}`,
      );
    }
    const dots = p.split('/').find((seg) => seg === '.' || seg === '..');
    if (dots) {
      // Refused rather than resolved: the run would open a notebook other than the one the line seems to name.
      throw new Error(
        `Input '${inputName}' line ${line}: "${p}" has a '${dots}' segment; give the notebook's full path without '.' or '..' segments, e.g. /Shared/tests/smoke_test.`,
      );
    }
    if (seen.has(p))
      throw new Error(`Input '${inputName}' lists "${p}" more than once; list each notebook once.`);
    seen.add(p);
    if (/\.(py|ipynb|scala|sql|r)$/i.test(p)) {
      warnings.push(
        `Input '${inputName}': "${p}" ends with a file extension; notebooks imported as SOURCE have none in the workspace (e.g. ${p.replace(/\.[^./]+$/, '')}).`,
      );
    }
  }
  return { paths: lines.map((l) => l.text), warnings };
}

/** Pipeline variables a default run name is made from. */
export interface RunNameContext {
  definitionName?: string;
  buildNumber?: string;
  releaseName?: string;
  stageName?: string;
  jobName?: string;
}

/** Default run name: names the pipeline and the build, e.g. "MyPipeline 20260101.3 (Test / smoke)". */
export function defaultRunName(ctx: RunNameContext): string {
  const head = [ctx.definitionName, ctx.releaseName ?? ctx.buildNumber].filter(Boolean).join(' ');
  const where = [ctx.stageName, ctx.jobName].filter(Boolean).join(' / ');
  const name = [head || 'Azure DevOps notebook run', where ? `(${where})` : ''].filter(Boolean).join(' ');
  return name;
}
