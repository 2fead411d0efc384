/**
 * A small parser for the block-style YAML subset Azure Pipelines files use: mappings,
 * sequences (including a sequence at its parent key's indentation), plain and quoted
 * scalars, block scalars (| and > with chomping indicators), simple flow sequences and
 * maps, comments, and `${{ }}` template keys. Every scalar stays a string (Azure
 * Pipelines reads inputs as strings anyway). Anchors, aliases, tags, multi-document
 * streams and multi-line quoted or flow scalars are rejected with the line number, so a
 * checker built on it never silently misreads a file.
 *
 * The project has no YAML dependency; this covers what samples and documentation need.
 */

export type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };
export type YamlMap = { [key: string]: YamlValue };

export class YamlError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/** Where a mapping, its keys and a sequence's items start (1-based lines), for error messages. */
export interface NodeLines {
  line: number;
  keys: Record<string, number>;
  items: number[];
}

const LINES = new WeakMap<object, NodeLines>();

/** Line information of a mapping or sequence returned by parseYaml. */
export function linesOf(node: object): NodeLines | undefined {
  return LINES.get(node);
}

interface Line {
  no: number;
  indent: number;
  /** Text after the indentation, comments kept (block scalars need them). */
  text: string;
  raw: string;
}

function isBlank(l: Line): boolean {
  return l.text === '' || l.text.startsWith('#');
}

/** Removes a trailing comment (` #…`) outside quotes. */
function stripComment(s: string): string {
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) {
        if (quote === "'" && s[i + 1] === "'") i++;
        else quote = undefined;
      } else if (c === '\\' && quote === '"') i++;
    } else if (c === '"' || c === "'") {
      // A quote only opens a quoted scalar at the start of a token.
      if (i === 0 || /[\s[{,:]/.test(s[i - 1])) quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(s[i - 1]))) {
      return s.slice(0, i).trimEnd();
    }
  }
  return s.trimEnd();
}

/** Splits `key: rest` (or `key:`) at the first `:` followed by a space or the end, outside quotes and ${{ }}. */
function splitKey(text: string): { key: string; rest: string } | undefined {
  let i = 0;
  let key: string;
  if (text[0] === '"' || text[0] === "'") {
    const q = text[0];
    let j = 1;
    let out = '';
    for (; j < text.length; j++) {
      if (text[j] === q) {
        if (q === "'" && text[j + 1] === "'") {
          out += "'";
          j++;
          continue;
        }
        break;
      }
      if (q === '"' && text[j] === '\\') {
        out += unescapeChar(text[++j]);
        continue;
      }
      out += text[j];
    }
    if (j >= text.length) return undefined;
    i = j + 1;
    while (text[i] === ' ') i++;
    if (text[i] !== ':' || (i + 1 < text.length && text[i + 1] !== ' ')) return undefined;
    key = out;
    return { key, rest: text.slice(i + 1).trim() };
  }
  let depth = 0;
  for (; i < text.length; i++) {
    if (text.startsWith('${{', i)) {
      depth++;
      i += 2;
      continue;
    }
    if (depth > 0 && text.startsWith('}}', i)) {
      depth--;
      i++;
      continue;
    }
    if (depth === 0 && text[i] === ':' && (i + 1 === text.length || text[i + 1] === ' ')) {
      key = text.slice(0, i).trim();
      if (key === '' || key.startsWith('#')) return undefined;
      return { key, rest: text.slice(i + 1).trim() };
    }
    if (depth === 0 && text[i] === ' ' && text[i + 1] === '#') return undefined;
  }
  return undefined;
}

function unescapeChar(c: string | undefined): string {
  switch (c) {
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case 'r':
      return '\r';
    case '0':
      return '\0';
    case undefined:
      return '\\';
    default:
      return c;
  }
}

class Parser {
  private pos = 0;

  constructor(private readonly lines: Line[]) {}

  parseDocument(): YamlValue {
    this.skipBlank();
    if (this.pos >= this.lines.length) return null;
    const first = this.lines[this.pos];
    const value = this.parseNode(first.indent);
    this.skipBlank();
    if (this.pos < this.lines.length) {
      const l = this.lines[this.pos];
      throw new YamlError(`unexpected indentation or content: ${l.text}`, l.no);
    }
    return value;
  }

  private skipBlank(): void {
    while (this.pos < this.lines.length && isBlank(this.lines[this.pos])) this.pos++;
  }

  private peek(): Line | undefined {
    this.skipBlank();
    return this.lines[this.pos];
  }

  private parseNode(indent: number): YamlValue {
    const l = this.peek();
    if (!l) return null;
    if (l.text === '-' || l.text.startsWith('- ')) return this.parseSequence(l.indent);
    if (splitKey(stripComment(l.text))) return this.parseMapping(l.indent);
    // A lone scalar (a document or item that is just a value).
    this.pos++;
    if (l.indent < indent) throw new YamlError('bad indentation', l.no);
    return this.parseInline(stripComment(l.text), l.no);
  }

  private parseSequence(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    const info: NodeLines = { line: this.lines[this.pos].no, keys: {}, items: [] };
    LINES.set(out, info);
    for (;;) {
      const l = this.peek();
      if (!l || l.indent !== indent || !(l.text === '-' || l.text.startsWith('- '))) break;
      info.items.push(l.no);
      const after = l.text === '-' ? '' : l.text.slice(2);
      const content = after.trimStart();
      if (stripComment(content) === '') {
        this.pos++;
        const next = this.peek();
        out.push(next && next.indent > indent ? this.parseNode(next.indent) : null);
        continue;
      }
      // Re-read the rest of the line as a node indented at its own column.
      const column = indent + 1 + (after.length - content.length) + 1;
      this.lines[this.pos] = { ...l, indent: column, text: content };
      out.push(this.parseNode(column));
    }
    return out;
  }

  private parseMapping(indent: number): YamlMap {
    const out: YamlMap = {};
    const info: NodeLines = { line: this.lines[this.pos].no, keys: {}, items: [] };
    LINES.set(out, info);
    for (;;) {
      const l = this.peek();
      if (!l || l.indent !== indent) {
        if (l && l.indent > indent) throw new YamlError(`unexpected indentation: ${l.text}`, l.no);
        break;
      }
      if (l.text.startsWith('- ') || l.text === '-') break;
      const kv = splitKey(stripComment(l.text));
      if (!kv) throw new YamlError(`expected "key: value", got: ${l.text}`, l.no);
      if (kv.key === '<<') throw new YamlError('merge keys (<<) are not supported', l.no);
      if (Object.prototype.hasOwnProperty.call(out, kv.key))
        throw new YamlError(`duplicate key ${kv.key}`, l.no);
      info.keys[kv.key] = l.no;
      this.pos++;
      out[kv.key] = this.parseValue(kv.rest, indent, l);
    }
    return out;
  }

  /** The value after `key:` on line l of a mapping at `indent`. */
  private parseValue(rest: string, indent: number, l: Line): YamlValue {
    if (rest === '') {
      const next = this.peek();
      if (!next) return null;
      if (next.indent > indent) return this.parseNode(next.indent);
      // A sequence may sit at its key's own indentation.
      if (next.indent === indent && (next.text === '-' || next.text.startsWith('- ')))
        return this.parseSequence(indent);
      return null;
    }
    if (/^[|>][+-]?\d*$/.test(rest)) return this.parseBlockScalar(rest, indent);
    let text = rest;
    // Plain scalars may continue on deeper-indented lines (folded with spaces).
    if (!/^["'[{]/.test(text)) {
      for (;;) {
        const next = this.lines[this.pos];
        if (!next || isBlank(next) || next.indent <= indent) break;
        if (splitKey(stripComment(next.text)) || next.text.startsWith('- ')) break;
        text += ' ' + stripComment(next.text);
        this.pos++;
      }
    }
    return this.parseInline(text, l.no);
  }

  private parseBlockScalar(header: string, indent: number): string {
    const folded = header[0] === '>';
    const chomp = header.includes('-') ? 'strip' : header.includes('+') ? 'keep' : 'clip';
    const explicit = /\d/.exec(header)?.[0];
    const body: { indent: number; raw: string; blank: boolean }[] = [];
    while (this.pos < this.lines.length) {
      const l = this.lines[this.pos];
      const blank = l.raw.trim() === '';
      if (!blank && l.indent <= indent) break;
      body.push({ indent: l.indent, raw: l.raw, blank });
      this.pos++;
    }
    const firstContent = body.find((b) => !b.blank);
    const contentIndent = explicit ? indent + Number(explicit) : (firstContent?.indent ?? indent + 1);
    const lines = body.map((b) => (b.blank ? '' : b.raw.slice(contentIndent)));
    let text: string;
    if (folded) {
      // Lines join with a space; each blank line is a newline; more-indented lines keep theirs.
      text = '';
      lines.forEach((ln, i) => {
        const prev = lines[i - 1];
        if (i === 0) text = ln;
        else if (ln === '') text += '\n';
        else if (prev === '') text += ln;
        else if (ln.startsWith(' ') || prev.startsWith(' ')) text += '\n' + ln;
        else text += ' ' + ln;
      });
    } else {
      text = lines.join('\n');
    }
    const trimmed = text.replace(/\n+$/, '');
    if (chomp === 'strip') return trimmed;
    if (chomp === 'keep') return text + '\n';
    return trimmed === '' ? '' : trimmed + '\n';
  }

  private parseInline(raw: string, lineNo: number): YamlValue {
    const text = stripComment(raw).trim();
    if (text === '' || text === '~' || text === 'null') return text === '' ? null : text;
    if (/^[&*!]/.test(text))
      throw new YamlError(`anchors, aliases and tags are not supported: ${text}`, lineNo);
    if (text[0] === '[' || text[0] === '{') {
      const r = new FlowReader(text, lineNo);
      const v = r.value();
      r.end();
      return v;
    }
    if (text[0] === '"' || text[0] === "'") {
      const r = new FlowReader(text, lineNo);
      const v = r.quoted();
      r.end();
      return v;
    }
    return text;
  }
}

/** Flow collections and quoted scalars on one line. */
class FlowReader {
  private i = 0;

  constructor(
    private readonly s: string,
    private readonly lineNo: number,
  ) {}

  private ws(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
  }

  end(): void {
    this.ws();
    if (this.i < this.s.length)
      throw new YamlError(`unexpected text after value: ${this.s.slice(this.i)}`, this.lineNo);
  }

  value(): YamlValue {
    this.ws();
    const c = this.s[this.i];
    if (c === '[') {
      this.i++;
      const out: YamlValue[] = [];
      this.ws();
      if (this.s[this.i] === ']') {
        this.i++;
        return out;
      }
      for (;;) {
        out.push(this.value());
        this.ws();
        if (this.s[this.i] === ',') {
          this.i++;
          continue;
        }
        if (this.s[this.i] === ']') {
          this.i++;
          return out;
        }
        throw new YamlError(`expected , or ] in flow sequence: ${this.s}`, this.lineNo);
      }
    }
    if (c === '{') {
      this.i++;
      const out: YamlMap = {};
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      for (;;) {
        this.ws();
        const key = this.s[this.i] === '"' || this.s[this.i] === "'" ? this.quoted() : this.plain(':');
        this.ws();
        if (this.s[this.i] !== ':') throw new YamlError(`expected : in flow mapping: ${this.s}`, this.lineNo);
        this.i++;
        out[key] = this.value();
        this.ws();
        if (this.s[this.i] === ',') {
          this.i++;
          continue;
        }
        if (this.s[this.i] === '}') {
          this.i++;
          return out;
        }
        throw new YamlError(`expected , or } in flow mapping: ${this.s}`, this.lineNo);
      }
    }
    if (c === '"' || c === "'") return this.quoted();
    const v = this.plain(',]}');
    return v === '' ? null : v;
  }

  private plain(stops: string): string {
    const start = this.i;
    while (this.i < this.s.length && !stops.includes(this.s[this.i])) this.i++;
    return this.s.slice(start, this.i).trim();
  }

  quoted(): string {
    const q = this.s[this.i++];
    let out = '';
    for (;;) {
      if (this.i >= this.s.length)
        throw new YamlError(`unterminated quoted string (multi-line quotes are not supported)`, this.lineNo);
      const c = this.s[this.i++];
      if (c === q) {
        if (q === "'" && this.s[this.i] === "'") {
          out += "'";
          this.i++;
          continue;
        }
        return out;
      }
      if (q === '"' && c === '\\') {
        out += unescapeChar(this.s[this.i++]);
        continue;
      }
      out += c;
    }
  }
}

/** Parses one YAML document of the supported subset. */
export function parseYaml(text: string, firstLine = 1): YamlValue {
  const rawLines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const lines: Line[] = [];
  rawLines.forEach((raw, i) => {
    const no = firstLine + i;
    if (/^ *\t/.test(raw) && raw.trim() !== '')
      throw new YamlError('tabs are not allowed for indentation', no);
    const trimmedStart = raw.replace(/^ +/, '');
    if (i > 0 && /^(---|\.\.\.)(\s|$)/.test(raw))
      throw new YamlError('multi-document streams are not supported', no);
    if (i === 0 && /^---(\s|$)/.test(raw)) {
      lines.push({ no, indent: 0, text: '', raw: '' });
      return;
    }
    lines.push({ no, indent: raw.length - trimmedStart.length, text: trimmedStart.trimEnd(), raw });
  });
  return new Parser(lines).parseDocument();
}

export function isMap(v: YamlValue | undefined): v is YamlMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
