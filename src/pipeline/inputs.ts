/**
 * Typed task input readers. Every failure is an InputError naming the input
 * (by its task.json name). InputReader works over any TaskSource so it can be
 * tested without the agent; the module-level functions use the real agent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError, quoteValue } from './errors';
import {
  isBlank,
  parseBool,
  parseIntInput,
  parseJsonInput,
  parseJsonObject,
  parseKeyValueLines,
  parseMultiline,
  parseParameters,
  parsePickList,
  type IntOptions,
} from './parse';
import { agentSource, type TaskSource } from './tl';

export interface FilePathOptions {
  required?: boolean;
  mustExist?: boolean;
  kind?: 'file' | 'folder';
}

type InputValues = Pick<TaskSource, 'getInput' | 'getVariable'>;

export class InputReader {
  constructor(private readonly source: InputValues) {}

  /** The raw value, trimmed; undefined when blank. */
  raw(name: string): string | undefined {
    const v = this.source.getInput(name);
    return isBlank(v) ? undefined : v.trim();
  }

  getString(name: string, required: true): string;
  getString(name: string, required?: boolean): string | undefined;
  getString(name: string, required = false): string | undefined {
    const v = this.raw(name);
    if (v === undefined && required) throw new InputError(name, `Input '${name}' is required.`);
    return v;
  }

  getBool(name: string, defaultValue = false): boolean {
    return parseBool(name, this.source.getInput(name), defaultValue);
  }

  getInt(name: string, opts: IntOptions & { default: number }): number;
  getInt(name: string, opts?: IntOptions): number | undefined;
  getInt(name: string, opts: IntOptions = {}): number | undefined {
    return parseIntInput(name, this.source.getInput(name), opts);
  }

  getKeyValueLines(name: string): Record<string, string> {
    return parseKeyValueLines(name, this.source.getInput(name));
  }

  getJson(name: string): unknown {
    return parseJsonInput(name, this.source.getInput(name));
  }

  getJsonObject(name: string): Record<string, unknown> | undefined {
    return parseJsonObject(name, this.source.getInput(name));
  }

  getMultiline(name: string): string[] {
    return parseMultiline(this.source.getInput(name));
  }

  getPickList<T extends string>(name: string, allowed: readonly T[], defaultValue?: T): T {
    return parsePickList(name, this.source.getInput(name), allowed, defaultValue);
  }

  getParameters(name: string): Record<string, unknown> {
    return parseParameters(name, this.source.getInput(name));
  }

  /** The folder relative paths are resolved against (System.DefaultWorkingDirectory, else cwd). */
  workingDirectory(): string {
    return this.source.getVariable('System.DefaultWorkingDirectory') || process.cwd();
  }

  /**
   * A file or folder path, absolute. The agent fills an empty filePath input with the
   * default working directory (or sources directory), so that value counts as "not given".
   */
  getFilePath(name: string, opts: FilePathOptions = {}): string | undefined {
    const v = this.raw(name);
    const defaults = [
      this.source.getVariable('System.DefaultWorkingDirectory'),
      this.source.getVariable('Build.SourcesDirectory'),
    ]
      .filter((d): d is string => !isBlank(d))
      .map(normaliseDir);
    if (v === undefined || defaults.includes(normaliseDir(v))) {
      if (opts.required)
        throw new InputError(
          name,
          `Input '${name}' is required: give the path of a ${opts.kind ?? 'file or folder'}.`,
        );
      return undefined;
    }
    const full = path.resolve(this.workingDirectory(), v);
    if (opts.mustExist || opts.kind) {
      let stat: fs.Stats | undefined;
      try {
        stat = fs.statSync(full);
      } catch {
        stat = undefined;
      }
      if (!stat) {
        if (opts.mustExist) {
          throw new InputError(
            name,
            `Input '${name}' must be an existing ${opts.kind ?? 'file or folder'}, but ${quoteValue(full, 200)} was not found.`,
          );
        }
        return full;
      }
      if (opts.kind === 'file' && !stat.isFile()) {
        throw new InputError(
          name,
          `Input '${name}' must be a file, but ${quoteValue(full, 200)} is a folder.`,
        );
      }
      if (opts.kind === 'folder' && !stat.isDirectory()) {
        throw new InputError(
          name,
          `Input '${name}' must be a folder, but ${quoteValue(full, 200)} is a file.`,
        );
      }
    }
    return full;
  }
}

function normaliseDir(p: string): string {
  const r = path.resolve(p.trim());
  return process.platform === 'win32' ? r.toLowerCase() : r;
}

let agentReader: InputReader | undefined;

/** The reader over the real agent (task-lib is loaded on first use). */
export function agentInputs(): InputReader {
  agentReader ??= new InputReader(agentSource());
  return agentReader;
}

export function getString(name: string, required: true): string;
export function getString(name: string, required?: boolean): string | undefined;
export function getString(name: string, required = false): string | undefined {
  return agentInputs().getString(name, required);
}
export const getBool = (name: string, defaultValue = false): boolean =>
  agentInputs().getBool(name, defaultValue);
export function getInt(name: string, opts: IntOptions & { default: number }): number;
export function getInt(name: string, opts?: IntOptions): number | undefined;
export function getInt(name: string, opts: IntOptions = {}): number | undefined {
  return agentInputs().getInt(name, opts);
}
export const getKeyValueLines = (name: string): Record<string, string> =>
  agentInputs().getKeyValueLines(name);
export const getJson = (name: string): unknown => agentInputs().getJson(name);
export const getJsonObject = (name: string): Record<string, unknown> | undefined =>
  agentInputs().getJsonObject(name);
export const getMultiline = (name: string): string[] => agentInputs().getMultiline(name);
export const getPickList = <T extends string>(name: string, allowed: readonly T[], defaultValue?: T): T =>
  agentInputs().getPickList(name, allowed, defaultValue);
export const getParameters = (name: string): Record<string, unknown> => agentInputs().getParameters(name);
export const getFilePath = (name: string, opts: FilePathOptions = {}): string | undefined =>
  agentInputs().getFilePath(name, opts);
