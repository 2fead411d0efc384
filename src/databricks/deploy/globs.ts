/**
 * Include/exclude selection with minimatch. Patterns are relative to the source
 * root and use '/'; a pattern that names a folder selects everything below it
 * (`tests` and `tests/**` mean the same), because that is what people write.
 */
import { Minimatch } from 'minimatch';
import { DeployInputError } from './errors';

export interface PathSelector {
  /** True when the relative posix path is included and not excluded. */
  selects(relPath: string): boolean;
  /** False only when no file below the relative folder path can be selected. */
  mightSelectBelow(relDir: string): boolean;
  /** The include patterns actually used (default ['**']). */
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

export function cleanPatterns(lines: readonly string[]): string[] {
  return lines
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'))
    .map((l) => l.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, ''))
    .filter((l) => l.length > 0);
}

export function createSelector(include: readonly string[], exclude: readonly string[]): PathSelector {
  const inc = cleanPatterns(include);
  const exc = cleanPatterns(exclude);
  const incPatterns = inc.length > 0 ? inc : ['**'];
  const compile = (p: string, input: string, dot: boolean): Minimatch[] => {
    if (p.startsWith('/')) {
      throw new DeployInputError(
        input,
        `Input '${input}': pattern '${p}' must be relative to the source folder (no leading '/').`,
      );
    }
    if (p.startsWith('!')) {
      throw new DeployInputError(
        input,
        `Input '${input}': negated pattern '${p}' is not supported; put the pattern without '!' in 'exclude' instead.`,
      );
    }
    const o = { dot, nocomment: true, nonegate: true };
    // `p/**` makes a folder pattern select what is below it.
    return [new Minimatch(p, o), new Minimatch(`${p}/**`, o)];
  };
  // Wildcards skip dot files when including (like most glob tools) but not when excluding.
  const incM = incPatterns.flatMap((p) => compile(p, 'include', false));
  const excM = exc.flatMap((p) => compile(p, 'exclude', true));
  const matchesAny = (ms: Minimatch[], rel: string): boolean => ms.some((m) => m.match(rel));

  // A child name no ordinary pattern names: an exclude that matches it covers the whole folder.
  const probe = '\u2063probe\u2063';
  return {
    include: incPatterns,
    exclude: exc,
    selects: (rel: string) => matchesAny(incM, rel) && !matchesAny(excM, rel),
    mightSelectBelow: (relDir: string) =>
      incM.some((m) => m.match(relDir, true)) &&
      !matchesAny(excM, relDir) &&
      !matchesAny(excM, `${relDir}/${probe}`),
  };
}
