/**
 * Parses the agent logging commands a task prints on stdout:
 *   ##vso[area.action key=value;key=value]message
 * and the formatting lines ##[group] / ##[endgroup] / ##[section] / ##[warning] / ##[error].
 */

export interface VsoCommand {
  /** e.g. "task.setvariable" */
  command: string;
  properties: Record<string, string>;
  message: string;
  /** 0-based index of the stdout line. */
  line: number;
}

export interface FormattingLine {
  kind: string; // group, endgroup, section, warning, error, debug, command
  text: string;
  line: number;
}

const COMMAND_PREFIX = '##vso[';

// task-lib 5.x escapes '%' as %AZP25; older libraries and the agent docs use %25.
const PROPERTY_ESCAPES: Record<string, string> = {
  '%AZP25': '%',
  '%25': '%',
  '%0D': '\r',
  '%0A': '\n',
  '%5D': ']',
  '%3B': ';',
};
const DATA_ESCAPES: Record<string, string> = { '%AZP25': '%', '%25': '%', '%0D': '\r', '%0A': '\n' };

// One pass, so "%253B" becomes "%3B" and not ";".
function unescapeWith(map: Record<string, string>, s: string): string {
  return s.replace(/%(AZP25|25|0D|0A|5D|3B)/gi, (m) => map[m.toUpperCase()] ?? m);
}

export const unescapeProperty = (s: string): string => unescapeWith(PROPERTY_ESCAPES, s);
export const unescapeData = (s: string): string => unescapeWith(DATA_ESCAPES, s);

/** Parses one line; undefined when it is not a well-formed ##vso command. */
export function parseVsoLine(text: string, line = 0): VsoCommand | undefined {
  const start = text.indexOf(COMMAND_PREFIX);
  if (start < 0) return undefined;
  const body = text.slice(start + COMMAND_PREFIX.length);
  const close = body.indexOf(']');
  if (close < 0) return undefined;
  const head = body.slice(0, close).trim();
  const space = head.indexOf(' ');
  const command = (space < 0 ? head : head.slice(0, space)).toLowerCase();
  if (!/^[a-z]+\.[a-z]+$/.test(command)) return undefined;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const part of head.slice(space + 1).split(';')) {
      const p = part.trim();
      if (!p) continue;
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      properties[p.slice(0, eq).trim()] = unescapeProperty(p.slice(eq + 1));
    }
  }
  return { command, properties, message: unescapeData(body.slice(close + 1)), line };
}

/** ##[group]Title and friends (what `console.log('##[group]…')` prints). */
export function parseFormattingLine(text: string, line = 0): FormattingLine | undefined {
  const m = /^##\[([a-z]+)\](.*)$/i.exec(text);
  if (!m) return undefined;
  return { kind: m[1].toLowerCase(), text: m[2], line };
}

export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
