/** Where a problem is, so the pipeline layer can annotate the file and line. */
export interface SourceLocation {
  file?: string;
  line?: number;
  column?: number;
}

/**
 * The logging surface core code uses. src/pipeline maps it onto task-lib
 * (##[group], ##vso[task.logissue]); tests use MemoryLogger.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string, where?: SourceLocation): void;
  error(message: string, where?: SourceLocation): void;
  startGroup(title: string): void;
  endGroup(): void;
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error' | 'group' | 'endgroup';
  message: string;
  where?: SourceLocation;
}

/** Collects log lines in memory (unit tests, benchmarks). */
export class MemoryLogger implements Logger {
  readonly entries: LogEntry[] = [];
  debug(message: string): void {
    this.entries.push({ level: 'debug', message });
  }
  info(message: string): void {
    this.entries.push({ level: 'info', message });
  }
  warn(message: string, where?: SourceLocation): void {
    this.entries.push({ level: 'warn', message, where });
  }
  error(message: string, where?: SourceLocation): void {
    this.entries.push({ level: 'error', message, where });
  }
  startGroup(title: string): void {
    this.entries.push({ level: 'group', message: title });
  }
  endGroup(): void {
    this.entries.push({ level: 'endgroup', message: '' });
  }
  text(): string {
    return this.entries.map((e) => `${e.level}: ${e.message}`).join('\n');
  }
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  startGroup: () => undefined,
  endGroup: () => undefined,
};
