/**
 * runTask: the wrapper every task's index.ts uses. It wires secrets to the
 * agent, builds the logger, HTTP client and abort signal, runs the task body,
 * and reports one result: Succeeded, SucceededWithIssues, Failed (with a
 * redacted, actionable message) or Cancelled. Stacks go to debug only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { redact, redactAndTruncate } from '../common/secrets';
import { closeHttpClient } from '../http/client';
import { HttpError } from '../http/errors';
import type { HttpClient } from '../http/types';
import { AuthError } from '../auth/errors';
import { createCancellation, CancelledError } from './cancel';
import { InputError } from './errors';
import { createPipelineHttpClient, type PipelineHttpOptions } from './http';
import { agentInputs, type InputReader } from './inputs';
import { TaskLogger } from './logger';
import { taskLib } from './tl';

export interface TaskContext {
  taskName: string;
  logger: TaskLogger;
  http: HttpClient;
  /** Aborted on SIGINT/SIGTERM: pass it to every long-running core call. */
  signal: AbortSignal;
  inputs: InputReader;
}

export type TaskOutcome = void | {
  result?: 'Succeeded' | 'SucceededWithIssues';
  message?: string;
};

export interface RunTaskOptions {
  http?: Omit<PipelineHttpOptions, 'taskName'>;
  /** Wait this long for stray handles after the result before exiting (default 3 s). */
  exitGraceMs?: number;
}

/** One line a user can act on, for any error a task hits. */
export function describeFailure(err: unknown): string {
  if (err instanceof InputError || err instanceof HttpError || err instanceof AuthError)
    return redact(err.message);
  if (err instanceof Error) {
    // Core errors carry complete, user-facing messages (lists of failed paths, traces):
    // keep every line, but bound the length so a runaway message can't flood the log.
    const msg = (err.message || err.name || 'The task failed.').trim();
    return redactAndTruncate(msg, 8000);
  }
  return redact(String(err));
}

function isCancellation(err: unknown, signal: AbortSignal): boolean {
  if (err instanceof CancelledError) return true;
  if (!signal.aborted) return false;
  return (
    (err instanceof Error && err.name === 'AbortError') ||
    (err instanceof HttpError && err.kind === 'aborted') ||
    err === signal.reason
  );
}

/** Version from the task.json that ships next to the bundled index.js, when there is one. */
function readTaskVersion(): string | undefined {
  try {
    const json = JSON.parse(fs.readFileSync(path.join(__dirname, 'task.json'), 'utf8')) as {
      version?: { Major?: number; Minor?: number; Patch?: number };
    };
    const v = json.version;
    return v ? `${v.Major ?? 0}.${v.Minor ?? 0}.${v.Patch ?? 0}` : undefined;
  } catch {
    return undefined;
  }
}

export async function runTask(
  taskName: string,
  body: (ctx: TaskContext) => Promise<TaskOutcome>,
  opts: RunTaskOptions = {},
): Promise<void> {
  const tl = taskLib();
  const logger = new TaskLogger();
  let finished = false;
  const cancellation = createCancellation({
    onCancel: (sig) => logger.warn(`Cancellation requested (${sig}): stopping.`),
  });

  const fail = (err: unknown) => {
    if (finished) return;
    finished = true;
    logger.closeGroups();
    if (err instanceof Error && err.stack) tl.debug(redact(err.stack));
    if (isCancellation(err, cancellation.signal)) {
      tl.setResult(tl.TaskResult.Cancelled, 'The task was cancelled.');
    } else {
      tl.setResult(tl.TaskResult.Failed, describeFailure(err));
    }
  };
  // Errors that escape the task body's promise chain (a stray callback) still fail the task,
  // once and redacted: task-lib's own handlers would report the raw message and stack.
  const onStray = (err: unknown) => fail(err);
  const saved = {
    uncaughtException: process.listeners('uncaughtException'),
    unhandledRejection: process.listeners('unhandledRejection'),
  };
  process.removeAllListeners('uncaughtException');
  process.removeAllListeners('unhandledRejection');
  process.on('uncaughtException', onStray);
  process.on('unhandledRejection', onStray);

  let http: HttpClient | undefined;
  try {
    http = createPipelineHttpClient(logger, {
      ...opts.http,
      taskName,
      taskVersion: opts.http?.taskVersion ?? readTaskVersion(),
    });
    const outcome = await body({
      taskName,
      logger,
      http,
      signal: cancellation.signal,
      inputs: agentInputs(),
    });
    if (cancellation.signal.aborted) throw cancellation.signal.reason;
    if (!finished) {
      finished = true;
      logger.closeGroups();
      const result = outcome?.result ?? 'Succeeded';
      if (result === 'SucceededWithIssues') {
        tl.setResult(
          tl.TaskResult.SucceededWithIssues,
          redact(outcome?.message ?? 'Completed with warnings.'),
        );
      } else {
        tl.setResult(tl.TaskResult.Succeeded, outcome?.message ? redact(outcome.message) : '');
      }
    }
  } catch (err) {
    fail(err);
  } finally {
    cancellation.dispose();
    if (http) closeHttpClient(http);
    process.removeListener('uncaughtException', onStray);
    process.removeListener('unhandledRejection', onStray);
    for (const l of saved.uncaughtException) process.on('uncaughtException', l);
    for (const l of saved.unhandledRejection) process.on('unhandledRejection', l);
    // The result is out; do not let a forgotten timer or socket keep the job step alive.
    const grace = opts.exitGraceMs ?? 3000;
    if (grace >= 0) setTimeout(() => process.exit(), grace).unref();
  }
}
