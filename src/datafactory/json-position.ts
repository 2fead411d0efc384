/**
 * JSON helpers that know where things are in the text, so validation problems
 * can be annotated with a file, line and column.
 *
 * Parsing uses JSON.parse (fast) and falls back to a strict scanner only to
 * explain a syntax error, because V8's messages differ between Node releases
 * and often give only an offset. Locating a value by its key path re-scans the
 * text lazily: only files with a problem pay for it.
 */

export interface TextPosition {
  line: number;
  column: number;
}

export type JsonPath = ReadonlyArray<string | number>;

export interface JsonParseFailure {
  message: string;
  line: number;
  column: number;
}

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; error: JsonParseFailure };

/** Line and column (both 1-based) of a character offset. */
export function positionAt(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** Strips a UTF-8 byte order mark (common in files saved on Windows). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function parseJsonText(text: string): JsonParseResult {
  const body = stripBom(text);
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    const scan = new Scanner(text);
    try {
      scan.document();
    } catch (e) {
      if (e instanceof ScanError) {
        const pos = positionAt(text, e.offset);
        return { ok: false, error: { message: e.message, ...pos } };
      }
      throw e;
    }
    // JSON.parse rejected text the scanner accepts: report V8's reason at the start.
    return { ok: false, error: { message: 'invalid JSON', line: 1, column: 1 } };
  }
}

/**
 * Where the value at `path` starts (for a missing last key: where its parent
 * starts). Returns undefined when the text is not valid JSON up to that point.
 */
export function locatePath(text: string, path: JsonPath): TextPosition | undefined {
  const scan = new Scanner(text);
  try {
    const offset = scan.locate(path);
    return positionAt(text, offset);
  } catch (e) {
    if (e instanceof ScanError) return undefined;
    throw e;
  }
}

/** Where a property key (not its value) is, e.g. to point at "name". */
export function locateKey(text: string, path: JsonPath): TextPosition | undefined {
  if (path.length === 0) return locatePath(text, path);
  const scan = new Scanner(text);
  try {
    const offset = scan.locate(path, true);
    return positionAt(text, offset);
  } catch (e) {
    if (e instanceof ScanError) return undefined;
    throw e;
  }
}

class ScanError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 512;

/** A strict RFC 8259 scanner that validates and seeks without building values. */
class Scanner {
  private pos: number;

  constructor(private readonly s: string) {
    this.pos = s.charCodeAt(0) === 0xfeff ? 1 : 0;
  }

  document(): void {
    this.ws();
    if (this.pos >= this.s.length) this.fail('expected a JSON value but the file is empty');
    this.value(0);
    this.ws();
    if (this.pos < this.s.length) this.fail(`unexpected ${this.here()} after the end of the JSON value`);
  }

  /** Offset of the value at `path` (or of its key when `key` is set). */
  locate(path: JsonPath, key = false): number {
    this.ws();
    let depth = 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      const c = this.s[this.pos];
      if (c === '{' && typeof seg === 'string') {
        const found = this.seekKey(seg, depth);
        if (found === undefined) return this.pos;
        if (last && key) return found;
      } else if (c === '[' && typeof seg === 'number') {
        if (!this.seekIndex(seg, depth)) return this.pos;
      } else {
        return this.pos;
      }
      depth++;
    }
    return this.pos;
  }

  /** Positions on the value of `name` in the object at pos; returns the key offset. */
  private seekKey(name: string, depth: number): number | undefined {
    const start = this.pos;
    this.pos++;
    this.ws();
    if (this.s[this.pos] === '}') {
      this.pos = start;
      return undefined;
    }
    for (;;) {
      this.ws();
      const keyAt = this.pos;
      const k = this.string();
      this.ws();
      this.expect(':', "expected ':' after a property name");
      this.ws();
      if (k === name) return keyAt;
      this.value(depth + 1);
      this.ws();
      if (this.s[this.pos] === ',') {
        this.pos++;
        continue;
      }
      this.pos = start;
      return undefined;
    }
  }

  private seekIndex(index: number, depth: number): boolean {
    const start = this.pos;
    this.pos++;
    this.ws();
    if (this.s[this.pos] === ']') {
      this.pos = start;
      return false;
    }
    for (let i = 0; ; i++) {
      this.ws();
      if (i === index) return true;
      this.value(depth + 1);
      this.ws();
      if (this.s[this.pos] === ',') {
        this.pos++;
        continue;
      }
      this.pos = start;
      return false;
    }
  }

  private fail(message: string, at = this.pos): never {
    throw new ScanError(message, at);
  }

  private here(): string {
    if (this.pos >= this.s.length) return 'end of file';
    return `character ${JSON.stringify(this.s[this.pos])}`;
  }

  private ws(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else break;
    }
  }

  private expect(ch: string, message: string): void {
    if (this.s[this.pos] !== ch) this.fail(`${message}, found ${this.here()}`);
    this.pos++;
  }

  private value(depth: number): void {
    if (depth > MAX_DEPTH) this.fail('nesting is too deep');
    const c = this.s[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') {
      this.string();
      return;
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const lit of ['true', 'false', 'null']) {
      if (this.s.startsWith(lit, this.pos)) {
        this.pos += lit.length;
        return;
      }
    }
    if (c === undefined) this.fail('unexpected end of file, expected a value');
    if (c === '/') this.fail('comments are not allowed in JSON');
    if (c === "'") this.fail('strings must use double quotes');
    this.fail(`unexpected ${this.here()}, expected a value`);
  }

  private object(depth: number): void {
    this.pos++;
    this.ws();
    if (this.s[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.s[this.pos] === '}') this.fail('trailing comma before }');
      if (this.s[this.pos] !== '"')
        this.fail(`expected a property name in double quotes, found ${this.here()}`);
      this.string();
      this.ws();
      this.expect(':', "expected ':' after a property name");
      this.ws();
      this.value(depth + 1);
      this.ws();
      const c = this.s[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        return;
      }
      this.fail(`expected ',' or '}' after a property value, found ${this.here()}`);
    }
  }

  private array(depth: number): void {
    this.pos++;
    this.ws();
    if (this.s[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.s[this.pos] === ']') this.fail('trailing comma before ]');
      this.value(depth + 1);
      this.ws();
      const c = this.s[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        return;
      }
      this.fail(`expected ',' or ']' after an array element, found ${this.here()}`);
    }
  }

  /** Scans a string and returns its decoded value (keys are compared decoded). */
  private string(): string {
    const start = this.pos;
    if (this.s[this.pos] !== '"') this.fail(`expected a string, found ${this.here()}`);
    this.pos++;
    let simple = true;
    for (;;) {
      if (this.pos >= this.s.length) this.fail('unterminated string', start);
      const c = this.s.charCodeAt(this.pos);
      if (c === 34) break;
      if (c < 0x20) this.fail('control character in string (escape it, e.g. \\n)');
      if (c === 92) {
        simple = false;
        const e = this.s[this.pos + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.s.slice(this.pos + 2, this.pos + 6)))
            this.fail('invalid \\u escape');
          this.pos += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) this.fail('invalid escape in string');
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
    this.pos++;
    const raw = this.s.slice(start, this.pos);
    return simple ? raw.slice(1, -1) : (JSON.parse(raw) as string);
  }

  private number(): void {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.pos, this.pos + 400));
    if (!m || m[0] === '-') this.fail('invalid number');
    this.pos += m[0].length;
  }
}
