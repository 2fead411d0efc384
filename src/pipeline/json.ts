/**
 * A strict JSON parser (RFC 8259) that reports where the first error is as a
 * line and column, the same on every Node version (V8's messages differ
 * between releases and often give only a character offset).
 */

export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column}`);
    this.name = 'JsonSyntaxError';
  }
}

export function parseJsonWithLocation(text: string): unknown {
  const p = new Parser(text);
  p.skipWs();
  if (p.pos >= text.length) p.fail('expected a JSON value but the text is empty');
  const value = p.value(0);
  p.skipWs();
  if (p.pos < text.length) p.fail(`unexpected ${p.describeHere()} after the end of the JSON value`);
  return value;
}

const MAX_DEPTH = 512;

class Parser {
  pos = 0;
  constructor(private readonly s: string) {
    // A UTF-8 byte order mark is common in files saved on Windows.
    if (s.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  fail(reason: string, at = this.pos): never {
    let line = 1;
    let col = 1;
    for (let i = 0; i < at && i < this.s.length; i++) {
      if (this.s[i] === '\n') {
        line++;
        col = 1;
      } else if (this.s[i] !== '\r') col++;
    }
    throw new JsonSyntaxError(reason, line, col);
  }

  describeHere(): string {
    if (this.pos >= this.s.length) return 'end of text';
    const c = this.s[this.pos];
    return `character ${JSON.stringify(c)}`;
  }

  skipWs(): void {
    while (this.pos < this.s.length) {
      const c = this.s[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.pos++;
      else break;
    }
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail('JSON nested too deeply');
    this.skipWs();
    const c = this.s[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    if (this.s.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (this.s.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (this.s.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    if (c === "'") this.fail('strings must use double quotes');
    this.fail(`expected a value but found ${this.describeHere()}`);
  }

  object(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++; // {
    this.skipWs();
    if (this.s[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      if (this.s[this.pos] !== '"') {
        if (this.s[this.pos] === '}') this.fail("trailing comma before '}'");
        this.fail(`expected a double-quoted property name but found ${this.describeHere()}`);
      }
      const key = this.string();
      this.skipWs();
      if (this.s[this.pos] !== ':')
        this.fail(`expected ':' after property name but found ${this.describeHere()}`);
      this.pos++;
      const v = this.value(depth + 1);
      // Define rather than assign so a "__proto__" key stays an ordinary property.
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      this.skipWs();
      const c = this.s[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        return out;
      }
      this.fail(`expected ',' or '}' after a property value but found ${this.describeHere()}`);
    }
  }

  array(depth: number): unknown[] {
    const out: unknown[] = [];
    this.pos++; // [
    this.skipWs();
    if (this.s[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      if (this.s[this.pos] === ']') this.fail("trailing comma before ']'");
      out.push(this.value(depth + 1));
      this.skipWs();
      const c = this.s[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        return out;
      }
      this.fail(`expected ',' or ']' after an array element but found ${this.describeHere()}`);
    }
  }

  string(): string {
    const start = this.pos;
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      if (this.pos >= this.s.length) this.fail('unterminated string', start);
      const c = this.s[this.pos];
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '\\') {
        const e = this.s[this.pos + 1];
        const simple: Record<string, string> = {
          '"': '"',
          '\\': '\\',
          '/': '/',
          b: '\b',
          f: '\f',
          n: '\n',
          r: '\r',
          t: '\t',
        };
        if (e !== undefined && e in simple) {
          out += simple[e];
          this.pos += 2;
          continue;
        }
        if (e === 'u') {
          const hex = this.s.slice(this.pos + 2, this.pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape in string');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 6;
          continue;
        }
        this.fail('invalid escape sequence in string');
      }
      if (c.charCodeAt(0) < 0x20) {
        this.fail(
          c === '\n'
            ? 'unterminated string (line break inside a string)'
            : 'control character inside a string',
        );
      }
      out += c;
      this.pos++;
    }
  }

  number(): number {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.pos, this.pos + 400));
    if (!m) this.fail('invalid number');
    const next = this.s[this.pos + m[0].length];
    if (next !== undefined && /[0-9.eE]/.test(next)) this.fail('invalid number', this.pos + m[0].length);
    this.pos += m[0].length;
    return Number(m[0]);
  }
}
