/**
 * Locate the first syntax error in a JSON text, as line and column.
 *
 * `JSON.parse` errors differ between V8 versions and often carry no position at all
 * (`Unexpected token '}', "{"a": }" is not valid JSON`), so when it fails we scan the text
 * ourselves with a strict RFC 8259 recogniser and report where and what went wrong.
 */

/** Where a JSON text stops being valid, 1-based line and column, and what was expected. */
export interface JsonSyntaxError {
  line: number;
  column: number;
  problem: string;
}

/** Find the first syntax error in `text`, or undefined when `text` is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const s = new Scanner(text);
  try {
    s.ws();
    s.value();
    s.ws();
    if (s.i < text.length) s.fail('unexpected data after the end of the document');
    return undefined;
  } catch (e) {
    if (!(e instanceof ScanError)) throw e;
    return { ...position(text, e.at), problem: e.message };
  }
}

/** 1-based line and column (in UTF-16 units, counting a tab as one) of offset `at`. */
function position(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: at - lineStart + 1 };
}

class ScanError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/** A recursive-descent recogniser; it builds nothing, it only finds the first error. */
class Scanner {
  i = 0;
  depth = 0;
  constructor(private readonly t: string) {}

  fail(problem: string, at = this.i): never {
    throw new ScanError(problem, at);
  }

  /** A description of the character at the cursor for messages. */
  here(): string {
    if (this.i >= this.t.length) return 'end of input';
    return JSON.stringify(this.t[this.i]);
  }

  ws(): void {
    while (this.i < this.t.length && ' \t\n\r'.includes(this.t[this.i] as string)) this.i++;
  }

  value(): void {
    const c = this.t[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const word of ['true', 'false', 'null']) {
      if (this.t.startsWith(word, this.i)) {
        this.i += word.length;
        return;
      }
    }
    this.fail(`expected a value, found ${this.here()}`);
  }

  nest(): void {
    if (++this.depth > 512) this.fail('nesting deeper than 512 levels');
  }

  object(): void {
    this.nest();
    this.i++; // {
    this.ws();
    if (this.t[this.i] === '}') {
      this.i++;
      this.depth--;
      return;
    }
    for (;;) {
      this.ws();
      if (this.t[this.i] !== '"') this.fail(`expected a double-quoted property name, found ${this.here()}`);
      this.string();
      this.ws();
      if (this.t[this.i] !== ':') this.fail(`expected ':' after property name, found ${this.here()}`);
      this.i++;
      this.ws();
      this.value();
      this.ws();
      if (this.t[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.t[this.i] === '}') {
        this.i++;
        this.depth--;
        return;
      }
      this.fail(`expected ',' or '}' after property value, found ${this.here()}`);
    }
  }

  array(): void {
    this.nest();
    this.i++; // [
    this.ws();
    if (this.t[this.i] === ']') {
      this.i++;
      this.depth--;
      return;
    }
    for (;;) {
      this.ws();
      this.value();
      this.ws();
      if (this.t[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.t[this.i] === ']') {
        this.i++;
        this.depth--;
        return;
      }
      this.fail(`expected ',' or ']' after array element, found ${this.here()}`);
    }
  }

  string(): void {
    const start = this.i;
    this.i++; // "
    for (;;) {
      if (this.i >= this.t.length) this.fail('unterminated string', start);
      const code = this.t.charCodeAt(this.i);
      if (code === 0x22) {
        this.i++;
        return;
      }
      if (code < 0x20) this.fail('control character in string (escape it as \\n, \\t or \\u00XX)');
      if (code === 0x5c) {
        const e = this.t[this.i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.t.slice(this.i + 2, this.i + 6))) this.fail('bad \\u escape in string');
          this.i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) this.fail('bad escape in string');
        this.i += 2;
        continue;
      }
      this.i++;
    }
  }

  number(): void {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.t.slice(this.i, this.i + 400));
    if (!m) this.fail(`bad number`);
    this.i += m[0].length;
  }
}
