/**
 * Logger over the agent's log: info lines to stdout, collapsible groups
 * (##[group]/##[endgroup]), warnings and errors as issues (with file, line and
 * column when known, so the agent annotates the source), debug via task.debug.
 * Every line is redacted, and text that came from a service cannot smuggle in
 * a ##vso logging command.
 */
import type { Logger, SourceLocation } from '../common/logger';
import { redact } from '../common/secrets';
import { taskLib, type TaskLibModule } from './tl';

/** Breaks `##vso[` so service output cannot issue logging commands. */
export function neutraliseCommands(text: string): string {
  return text.replace(/##vso\[/gi, '##vso\u200b[').replace(/^##\[/gm, '#\u200b#[');
}

export interface TaskLoggerOptions {
  /** Where plain lines go (tests). Default: process.stdout. */
  write?: (line: string) => void;
  tl?: TaskLibModule;
}

export class TaskLogger implements Logger {
  warnings = 0;
  errors = 0;
  private depth = 0;
  private readonly write: (line: string) => void;
  private readonly tlOverride?: TaskLibModule;

  constructor(opts: TaskLoggerOptions = {}) {
    this.write = opts.write ?? ((line) => void process.stdout.write(line + '\n'));
    this.tlOverride = opts.tl;
  }

  private get tl(): TaskLibModule {
    return this.tlOverride ?? taskLib();
  }

  private clean(message: string): string {
    return neutraliseCommands(redact(message));
  }

  debug(message: string): void {
    this.tl.debug(this.clean(message));
  }

  info(message: string): void {
    for (const line of this.clean(message).split(/\r?\n/)) this.write(line);
  }

  warn(message: string, where?: SourceLocation): void {
    this.warnings++;
    this.issue('warning', message, where);
  }

  error(message: string, where?: SourceLocation): void {
    this.errors++;
    this.issue('error', message, where);
  }

  private issue(type: 'warning' | 'error', message: string, where?: SourceLocation): void {
    const tl = this.tl;
    const text = this.clean(message);
    if (where?.file) {
      tl.logIssue(
        type === 'error' ? tl.IssueType.Error : tl.IssueType.Warning,
        text,
        where.file,
        where.line,
        where.column,
      );
    } else if (type === 'error') {
      tl.error(text);
    } else {
      tl.warning(text);
    }
  }

  /** Azure Pipelines does not nest groups: inner groups become plain headings. */
  startGroup(title: string): void {
    const t = this.clean(title).replace(/\r?\n/g, ' ');
    if (this.depth === 0) this.write(`##[group]${t}`);
    else this.write(t);
    this.depth++;
  }

  endGroup(): void {
    if (this.depth === 0) return;
    this.depth--;
    if (this.depth === 0) this.write('##[endgroup]');
  }

  /** Closes any open group (before the final result line). */
  closeGroups(): void {
    if (this.depth > 0) {
      this.depth = 0;
      this.write('##[endgroup]');
    }
  }
}

/**
 * Runs long work and prints a progress line every interval ("Still waiting for run 42 (5m 0s)"),
 * so a quiet step does not look hung in the live log.
 */
export async function withProgress<T>(
  logger: Pick<TaskLogger, 'info'>,
  label: string,
  work: () => Promise<T>,
  opts: { intervalMs?: number; now?: () => number } = {},
): Promise<T> {
  const now = opts.now ?? Date.now;
  const started = now();
  const timer = setInterval(
    () => logger.info(`Still ${label} (${formatElapsed(now() - started)}).`),
    opts.intervalMs ?? 60_000,
  );
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h ${m}m ${sec}s` : m > 0 ? `${m}m ${sec}s` : `${sec}s`;
}
