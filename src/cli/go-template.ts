/**
 * Go's text/template as Docker users write it in `--format` (`docker inspect -f`, `docker ps
 * --format`): the docker CLI's function map (github.com/docker/cli templates/templates.go) and
 * its `table` prefix, whose columns Go's text/tabwriter aligns.
 *
 * Supported: `{{.}}`, `{{.A.B}}`, `{{$}}`, `{{$x := …}}`, `{{$x = …}}`, if / else if / else,
 * with / else with / else, range (lists, maps in sorted key order, integers) with `$i, $e :=`,
 * `{{else}}`, `{{break}}` and `{{continue}}`; pipelines, parenthesised pipelines with field chains
 * (`(index .A "k").B`), string ("…" with Go's escapes, `raw`), char, number, bool and nil literals,
 * trim markers and comments. Functions: Go's and, or, not, len, index, slice, print, printf,
 * println, eq, ne, lt, le, gt, ge and Docker's json, split, join, title, lower, upper, pad,
 * truncate. Methods of the data (a function at the end of a field chain: Docker's `.Label "k"`
 * on ps rows) are called with the command's arguments. Not supported: define / template /
 * block, call, html, js, urlquery and complex numbers.
 *
 * The data is JSON-shaped (Berth's inspect documents and list rows) where Docker's is Go structs
 * and maps: an object is a struct unless Docker's type there is a map (MAP_KEYS). As in Go, a
 * missing struct field is an error, naming the field and what exists, while a missing map key
 * (and null, which Go would print as <nil> or no value depending on the type) prints
 * `<no value>`; `index` of a missing key gives "" in a map of strings, as Go's zero value. Numbers
 * print as Docker's int64 (no exponent) when whole, else as Go's %v for float64.
 *
 * @example
 *   renderTemplate('{{.Name}} {{if .State.Running}}up{{else}}down{{end}}', doc); // "/web up"
 *   tableTemplate('table {{.ID}}\\t{{.Names}}', { headers: { ID: 'CONTAINER ID' } }).render(rows);
 */
import { BerthError } from '../util/errors.js';

/**
 * The keys under which Docker's types hold a Go map (map[string]string, nat.PortSet, …) rather
 * than a struct: a lookup of a missing key in such an object (`.Config.Labels.nope`) gives no
 * value instead of an error, and null there is an empty map. "Parent.Key" names a key only under
 * that parent (HostConfig.LogConfig.Config, where the top-level Config is a struct). Lists such
 * as Mounts, Env and Args are not here: their elements are structs or strings.
 */
export const MAP_KEYS: ReadonlySet<string> = new Set([
  'Labels', 'Options', 'DriverOpts', 'Annotations', // map[string]string of containers, images, volumes, networks
  'Volumes', 'ExposedPorts', // Config.Volumes map[string]struct{}, nat.PortSet
  'PortBindings', 'Ports', // nat.PortMap in HostConfig and NetworkSettings
  'Networks', 'Containers', // NetworkSettings.Networks, network inspect's Containers: keyed by name or id
  'Data', 'Status', // GraphDriver.Data, volume Status
  'Sysctls', 'StorageOpt', 'Tmpfs', 'LogConfig.Config', 'Runtimes', 'Attributes', // events' Actor.Attributes
]);

// ---- Lexer -------------------------------------------------------------------------------

type TokKind = 'text' | 'left' | 'right' | 'space' | 'field' | 'var' | 'dot' | 'ident' | 'lit' | 'pipe'
  | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma' | 'eof';

interface Token { kind: TokKind; pos: number; end: number; text: string; value?: unknown }

const SPACE = /[ \t\r\n]/;
const NUMBER = /^[+-]?(?:0[xX][\da-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?)/;

/** A template error at `pos` of `src`: Go's `template: :LINE: message`. */
function parseError(src: string, pos: number, msg: string): BerthError {
  return new BerthError('EINVALID_ARG', `template: :${lineCol(src, pos)[0]}: ${msg}`);
}

/** Go's position of offset `pos`: line from 1, column from 0 (`template: :1:2:` is the third character). */
function lineCol(src: string, pos: number): [number, number] {
  const before = src.slice(0, pos);
  return [before.split('\n').length, pos - (before.lastIndexOf('\n') + 1)];
}

/** Go's unquoting of a "…" or '…' literal body. */
function unquote(body: string, fail: (msg: string) => never): string {
  let out = '';
  for (let k = 0; k < body.length; k++) {
    if (body[k] !== '\\') { out += body[k]; continue; }
    const e = body[++k] ?? '';
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    const hex = ({ x: 2, u: 4, U: 8 } as Record<string, number>)[e];
    if (simple[e] !== undefined) out += simple[e];
    else if (hex && /^[\da-fA-F]+$/.test(body.slice(k + 1, k + 1 + hex)) && body.length >= k + 1 + hex) {
      out += String.fromCodePoint(parseInt(body.slice(k + 1, k + 1 + hex), 16));
      k += hex;
    } else if (/^[0-7]{3}$/.test(body.slice(k, k + 3))) {
      out += String.fromCharCode(parseInt(body.slice(k, k + 3), 8));
      k += 2;
    } else fail(`invalid escape \\${e} in quoted string`);
  }
  return out;
}

/**
 * The template's tokens. Trim markers are applied here, and the shell's `\t` / `\n` (backslash
 * letters in a format argument) become a tab / newline in the text outside actions, as the
 * docker CLI does before parsing (inside actions, Go's string escapes say the same).
 */
function lex(src: string): Token[] {
  const toks: Token[] = [];
  const fail = (pos: number, msg: string): never => { throw parseError(src, pos, msg); };
  const atRight = (p: number): [number, boolean] | undefined => (SPACE.test(src[p] ?? '') && src.startsWith('-}}', p + 1) ? [p + 4, true]
    : src.startsWith('}}', p) ? [p + 2, false] : undefined);
  let i = 0;
  let trimNext = false;
  for (;;) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open).replace(/\\t/g, '\t').replace(/\\n/g, '\n');
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    const trimLeft = open >= 0 && src[open + 2] === '-' && SPACE.test(src[open + 3] ?? '');
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    if (text) toks.push({ kind: 'text', pos: i, end: open, text, value: text });
    if (open < 0) break;
    const body = open + (trimLeft ? 4 : 2);
    if (src.startsWith('/*', body)) {
      const close = src.indexOf('*/', body + 2);
      if (close < 0) fail(open, 'unclosed comment');
      const r = atRight(close + 2) ?? fail(close, 'comment ends before closing delimiter');
      [i, trimNext] = r;
      continue;
    }
    toks.push({ kind: 'left', pos: open, end: body, text: '{{' });
    let p = open + (trimLeft ? 3 : 2);
    for (;;) {
      const r = atRight(p);
      if (r) {
        toks.push({ kind: 'right', pos: p, end: r[0], text: '}}' });
        [i, trimNext] = r;
        break;
      }
      if (p >= src.length) fail(open, 'unclosed action');
      const start = p;
      const c = src[p]!;
      const push = (kind: TokKind, end: number, value?: unknown) => { toks.push({ kind, pos: start, end, text: src.slice(start, end), value }); p = end; };
      const word = (from: number) => from + (/^[\p{L}\p{N}_]*/u.exec(src.slice(from))![0].length);
      if (SPACE.test(c)) {
        while (p < src.length && SPACE.test(src[p]!) && !src.startsWith('-}}', p + 1)) p++;
        if (p === start) p++;
        toks.push({ kind: 'space', pos: start, end: p, text: src.slice(start, p) });
      } else if (src.startsWith(':=', p)) push('declare', p + 2);
      else if (c === '=') push('assign', p + 1);
      else if (c === '|') push('pipe', p + 1);
      else if (c === '(') push('lparen', p + 1);
      else if (c === ')') push('rparen', p + 1);
      else if (c === ',') push('comma', p + 1);
      else if (c === '"' || c === "'") {
        let q = p + 1;
        while (q < src.length && src[q] !== c && src[q] !== '\n') q += src[q] === '\\' ? 2 : 1;
        if (src[q] !== c) fail(p, c === '"' ? 'unterminated quoted string' : 'unterminated character constant');
        const s = unquote(src.slice(p + 1, q), (msg) => fail(start, msg));
        if (c === "'" && [...s].length !== 1) fail(p, `malformed character constant: ${src.slice(p, q + 1)}`);
        push('lit', q + 1, c === '"' ? s : s.codePointAt(0));
      } else if (c === '`') {
        const q = src.indexOf('`', p + 1);
        if (q < 0) fail(p, 'unterminated raw quoted string');
        push('lit', q + 1, src.slice(p + 1, q));
      } else if (c === '$') push('var', word(p + 1));
      else if (c === '.' && /[\p{L}_]/u.test(src[p + 1] ?? '')) {
        const end = word(p + 1);
        push('field', end, src.slice(p + 1, end));
      } else if (/[\d.+-]/.test(c)) {
        const m = NUMBER.exec(src.slice(p));
        if (!m || /[\p{L}\p{N}_.]/u.test(src[p + m[0].length] ?? '')) {
          if (c === '.') { push('dot', p + 1); continue; }
          fail(p, `bad number syntax: ${JSON.stringify(src.slice(p, word(p + 1)))}`);
        }
        const digits = m![0].replace(/^[+-]/, '').replace(/_/g, '');
        const n = /^0[0-7]+$/.test(digits) ? parseInt(digits, 8) : Number(digits);
        push('lit', p + m![0].length, c === '-' ? -n : n);
      } else if (/[\p{L}_]/u.test(c)) {
        const end = word(p);
        const name = src.slice(p, end);
        if (name === 'true' || name === 'false') push('lit', end, name === 'true');
        else if (name === 'nil') push('lit', end, null);
        else push('ident', end, name);
      } else fail(p, `unrecognized character in action: ${JSON.stringify(c)}`);
    }
  }
  toks.push({ kind: 'eof', pos: src.length, end: src.length, text: 'EOF' });
  return toks;
}

// ---- Parser ------------------------------------------------------------------------------

/** An operand: what it is, where, and its source text (for `at <…>` in errors). */
type Operand = { pos: number; text: string } & (
  | { kind: 'dot' } | { kind: 'lit'; value: unknown } | { kind: 'fn'; name: string }
  | { kind: 'field'; names: string[] } | { kind: 'var'; name: string; names: string[] }
  | { kind: 'sub'; pipe: Pipe; names: string[] });
interface Command { args: Operand[] }
interface Pipe { pos: number; decl: string[]; isAssign: boolean; cmds: Command[] }
interface Control { kind: 'if' | 'with' | 'range'; pos: number; pipe: Pipe; list: Node[]; elseList?: Node[] }
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipe }
  | Control
  | { kind: 'break' | 'continue' };

const CONTROL = new Set(['if', 'with', 'range', 'else', 'end', 'break', 'continue', 'define', 'template', 'block']);

class Parser {
  private i = 0;
  private readonly vars = ['$'];
  private rangeDepth = 0;
  constructor(private readonly src: string, private readonly toks: Token[]) {}

  private fail(pos: number, msg: string): never { throw parseError(this.src, pos, msg); }
  private peek(): Token { return this.toks[this.i]!; }
  private next(): Token { return this.toks[this.i++]!; }
  private nextNonSpace(): Token { let t = this.next(); while (t.kind === 'space') t = this.next(); return t; }
  private peekNonSpace(): Token { const at = this.i; const t = this.nextNonSpace(); this.i = at; return t; }
  private expectRight(context: string): void {
    const t = this.nextNonSpace();
    if (t.kind !== 'right') this.fail(t.pos, `unexpected ${JSON.stringify(t.text)} in ${context}`);
  }

  parse(): Node[] {
    const { nodes, stop } = this.list();
    if (stop) this.fail(stop.pos, `unexpected {{${stop.word}}}`);
    return nodes;
  }

  /** Nodes up to EOF, `{{end}}` (consumed) or `{{else` (the rest is the caller's). */
  private list(): { nodes: Node[]; stop?: { word: 'end' | 'else'; pos: number } } {
    const nodes: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof') return { nodes };
      if (t.kind === 'text') { nodes.push({ kind: 'text', text: t.value as string }); continue; }
      const k = this.peekNonSpace();
      const word = k.kind === 'ident' && CONTROL.has(k.value as string) ? k.value as string : undefined;
      if (!word) { nodes.push({ kind: 'action', pipe: this.pipeline('command', 'right') }); continue; }
      this.nextNonSpace();
      if (word === 'end' || word === 'else') {
        if (word === 'end') this.expectRight('end');
        return { nodes, stop: { word, pos: k.pos } };
      }
      if (word === 'break' || word === 'continue') {
        if (!this.rangeDepth) this.fail(k.pos, `{{${word}}} outside {{range}}`);
        this.expectRight(word);
        nodes.push({ kind: word });
      } else if (word === 'if' || word === 'with' || word === 'range') nodes.push(this.control(word, k.pos));
      else this.fail(k.pos, `{{${word}}} is not supported: a format is one template`);
    }
  }

  private control(word: 'if' | 'with' | 'range', pos: number): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(word, 'right');
    if (word === 'range') this.rangeDepth++;
    const body = this.list();
    if (word === 'range') this.rangeDepth--;
    const unclosed = () => this.fail(this.src.length, `unexpected EOF: {{${word}}} at line ${lineCol(this.src, pos)[0]} has no {{end}}`);
    if (!body.stop) unclosed();
    let elseList: Node[] | undefined;
    if (body.stop!.word === 'else') {
      const k = this.peekNonSpace();
      if (word !== 'range' && k.kind === 'ident' && (k.value === 'if' || k.value === 'with')) {
        this.nextNonSpace();
        // `{{else if}}`: an if inside the else branch, closed by the same {{end}}.
        elseList = [this.control(k.value, k.pos)];
      } else {
        this.expectRight('else');
        const rest = this.list();
        if (!rest.stop) unclosed();
        if (rest.stop!.word === 'else') this.fail(rest.stop!.pos, `expected {{end}}; found a second {{else}} in {{${word}}}`);
        elseList = rest.nodes;
      }
    }
    this.vars.length = mark;
    return { kind: word, pos, pipe, list: body.nodes, elseList };
  }

  private pipeline(context: string, end: 'right' | 'rparen'): Pipe {
    const pos = this.peekNonSpace().pos;
    const decl: string[] = [];
    let isAssign = false;
    const at = this.i;
    const v = this.nextNonSpace();
    const after = this.peekNonSpace();
    if (v.kind === 'var' && (after.kind === 'declare' || after.kind === 'assign')) {
      this.nextNonSpace();
      decl.push(v.text);
      isAssign = after.kind === 'assign';
    } else if (v.kind === 'var' && after.kind === 'comma') {
      if (context !== 'range') this.fail(after.pos, `too many declarations in ${context}`);
      this.nextNonSpace();
      const v2 = this.nextNonSpace();
      const op = this.nextNonSpace();
      if (v2.kind !== 'var' || (op.kind !== 'declare' && op.kind !== 'assign')) this.fail(v2.pos, 'range can only initialize variables: use {{range $i, $e := …}}');
      decl.push(v.text, v2.text);
      isAssign = op.kind === 'assign';
    } else this.i = at;
    if (isAssign) for (const name of decl) if (!this.vars.includes(name)) this.fail(pos, `undefined variable "${name}"`);
    const cmds: Command[] = [];
    for (;;) {
      const t = this.peekNonSpace();
      if (t.kind === end) { this.nextNonSpace(); break; }
      if (t.kind === 'right' || t.kind === 'rparen' || t.kind === 'eof') this.fail(t.pos, end === 'rparen' ? 'unclosed left paren' : `unexpected ${JSON.stringify(t.text)} in ${context}`);
      if (t.kind === 'pipe') this.fail(t.pos, cmds.length ? 'missing command after |' : 'missing value before |');
      cmds.push(this.command());
      if (this.peekNonSpace().kind === 'pipe') {
        this.nextNonSpace();
        if ([end, 'right'].includes(this.peekNonSpace().kind)) this.fail(this.peekNonSpace().pos, 'missing command after |');
      }
    }
    if (!cmds.length) this.fail(pos, `missing value for ${context}`);
    if (!isAssign) this.vars.push(...decl);
    return { pos, decl, isAssign, cmds };
  }

  private command(): Command {
    const args: Operand[] = [];
    for (;;) {
      const spaced = this.peek().kind === 'space';
      const t = this.peekNonSpace();
      if (t.kind === 'right' || t.kind === 'rparen' || t.kind === 'pipe' || t.kind === 'eof') break;
      if (args.length && !spaced) this.fail(t.pos, `missing space before ${JSON.stringify(t.text)}`);
      args.push(this.operand());
    }
    const first = args[0];
    if (first?.kind === 'lit' && first.value === null) this.fail(first.pos, 'nil is not a command');
    return { args };
  }

  private operand(): Operand {
    const t = this.nextNonSpace();
    const base = { pos: t.pos, text: t.text };
    let op: Operand;
    if (t.kind === 'field') op = { ...base, kind: 'field', names: [t.value as string] };
    else if (t.kind === 'var') {
      if (!this.vars.includes(t.text)) this.fail(t.pos, `undefined variable "${t.text}"`);
      op = { ...base, kind: 'var', name: t.text, names: [] };
    } else if (t.kind === 'dot') op = { ...base, kind: 'dot' };
    else if (t.kind === 'lit') op = { ...base, kind: 'lit', value: t.value };
    else if (t.kind === 'ident') {
      const name = t.value as string;
      if (CONTROL.has(name)) this.fail(t.pos, `unexpected {{${name}}} in operand`);
      if (!FUNCS.has(name)) this.fail(t.pos, `function "${name}" not defined`);
      op = { ...base, kind: 'fn', name };
    } else if (t.kind === 'lparen') op = { ...base, kind: 'sub', pipe: this.pipeline('parenthesized pipeline', 'rparen'), names: [] };
    else this.fail(t.pos, `unexpected ${JSON.stringify(t.text)} in operand`);
    while (this.peek().kind === 'field') {
      if (op.kind !== 'field' && op.kind !== 'var' && op.kind !== 'sub') this.fail(this.peek().pos, `unexpected . after term ${JSON.stringify(op.text)}`);
      op.names.push(this.next().value as string);
    }
    op.text = this.src.slice(t.pos, this.toks[this.i - 1]!.end);
    return op;
  }
}

// ---- Values as Go prints and compares them -----------------------------------------------

/** The data of a table's header row: each field is its column's header text (Docker's SubHeaderContext). */
class HeaderRoot {
  constructor(private readonly headers: Readonly<Record<string, string>>) {}
  header(field: string): string { return Object.hasOwn(this.headers, field) ? this.headers[field]! : dockerHeader(field); }
}

/**
 * Docker's header for a field without a fixed one: words of the camel-cased name, upper-cased
 * ("CreatedAt" → "CREATED AT", "ID" → "ID", "CPUPerc" → "CPU PERC", "PIDs" → "PIDS").
 */
export function dockerHeader(field: string): string {
  return field.replace(/([a-z\d])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z]{2,})/g, '$1 $2').toUpperCase();
}

/** Go's type name of a JSON value, for messages (`%!d(string=abc)`). */
function goType(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return typeof v === 'object' ? 'map[string]interface {}' : typeof v;
}

/** A number as Go prints it: Docker's integers (int64) without exponent, floats as %g (1e+06). */
function goNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (Number.isInteger(n)) return BigInt(n).toString();
  const [m, e] = n.toExponential().split('e') as [string, string];
  return Number(e) < -4 || Number(e) >= 6 ? `${m}${goExponent(e)}` : String(n);
}

/** JavaScript's exponent "+6" as Go writes it: "e+06". */
function goExponent(e: string): string {
  const n = Math.abs(Number(e));
  return `e${Number(e) < 0 ? '-' : '+'}${n < 10 ? '0' : ''}${n}`;
}

/** %.Pg: P significant digits, Go's exponent rule (exp < -4 or >= P), trailing zeros dropped. */
function goPrecision(n: number, p: number): string {
  const strip = (s: string) => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  const [m, e] = n.toExponential(p - 1).split('e') as [string, string];
  return Number(e) < -4 || Number(e) >= p ? `${strip(m)}${goExponent(e)}` : strip(n.toFixed(Math.max(0, p - 1 - Number(e))));
}

/** `v` as fmt's %v prints it: lists `[a b]`, objects `map[k:v]` in sorted key order, nil `<nil>`. */
function fmtValue(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (Array.isArray(v)) return `[${v.map(fmtValue).join(' ')}]`;
  if (v instanceof HeaderRoot) return '';
  if (typeof v === 'object') return `map[${entries(v).map(([k, x]) => `${k}:${fmtValue(x)}`).join(' ')}]`;
  return String(v);
}

/** An object's entries in Go's map order (sorted keys), skipping undefined ones. */
function entries(o: object): [string, unknown][] {
  return Object.keys(o).sort().map((k): [string, unknown] => [k, (o as Record<string, unknown>)[k]]).filter(([, x]) => x !== undefined);
}

/** Go's truth: false, 0, nil, "" and empty lists and maps are false. */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object' && !(v instanceof HeaderRoot)) return Object.keys(v).length > 0;
  return true;
}

/** Go's quoting (strconv.Quote), close enough for names and paths. */
function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00(07|0b)/g, (_, c: string) => (c === '07' ? '\\a' : '\\v'))
    .replace(/\\u00([\da-f]{2})/g, '\\x$1').replace(/\x7f/g, '\\x7f');
}

// ---- Functions ---------------------------------------------------------------------------

/** A function's misuse; the executor adds the function name and where it was called. */
class FnError extends Error {}

const describe = (v: unknown) => `${goType(v)} ${JSON.stringify(fmtValue(v).slice(0, 40))}`;
function str(v: unknown, n: number): string {
  if (typeof v !== 'string') throw new FnError(`argument ${n} must be a string, not ${describe(v)}`);
  return v;
}
function int(v: unknown, n: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new FnError(`argument ${n} must be an integer, not ${describe(v)}`);
  return v;
}

/** `eq`'s rule: basic values of one kind compare; nil equals only nil. */
function equal(a: unknown, b: unknown): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null);
  for (const x of [a, b]) if (typeof x === 'object') throw new FnError(`non-comparable type ${describe(x)}`);
  if (typeof a !== typeof b) throw new FnError(`incompatible types for comparison: ${goType(a)} and ${goType(b)}`);
  return a === b;
}
function less(a: unknown, b: unknown): boolean {
  if ((typeof a !== 'number' && typeof a !== 'string') || typeof a !== typeof b) {
    throw new FnError(`incompatible types for comparison: ${goType(a)} and ${goType(b)} (numbers or strings compare)`);
  }
  return (a as number) < (b as number);
}

/** Go's index: lists and strings by number, maps by key (a missing key: the zero value). */
function indexOf(x: unknown, keys: unknown[]): unknown {
  let v = x;
  for (const [n, k] of keys.entries()) {
    if (v === undefined || v === null) return undefined;
    if (v instanceof HeaderRoot) return typeof k === 'string' ? v.header(k) : '';
    if (Array.isArray(v) || typeof v === 'string') {
      const i = int(k, n + 2);
      const len = Array.isArray(v) ? v.length : Buffer.byteLength(v);
      if (i < 0 || i >= len) throw new FnError(`index out of range: ${i}`);
      v = Array.isArray(v) ? v[i] : Buffer.from(v)[i];
    } else if (typeof v === 'object') {
      if (typeof k !== 'string') throw new FnError(`value has type ${goType(k)}; should be string`);
      const o = v as Record<string, unknown>;
      // Go's zero value for a missing key: "" in a map of strings (Labels), else no value.
      v = Object.hasOwn(o, k) ? o[k] : Object.values(o).every((e) => typeof e === 'string') ? '' : undefined;
    } else throw new FnError(`can't index item of type ${goType(v)}`);
  }
  return v;
}

/** fmt.Sprint: a space between operands when neither is a string. */
function sprint(args: unknown[]): string {
  return args.map((a, i) => (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string' ? ' ' : '') + fmtValue(a)).join('');
}

/** fmt.Sprintf for the verbs templates use: %v %s %q %d %t %x %X %o %b %c %f %e %g, flags, width, precision. */
function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let ai = 0;
  const bad = (verb: string, a: unknown) => `%!${verb}(${a === undefined || a === null ? '<nil>' : `${goType(a)}=${fmtValue(a)}`})`;
  for (let i = 0; i < format.length;) {
    if (format[i] !== '%') { out += format[i++]; continue; }
    const m = /^%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?(.?)/s.exec(format.slice(i))!;
    i += m[0].length;
    const flags = m[1]!;
    const verb = m[4]!;
    if (verb === '%') { out += '%'; continue; }
    if (!verb) { out += '%!(NOVERB)'; break; }
    const star = (s: string | undefined) => (s === '*' ? Number(args[ai++]) : s === undefined ? undefined : Number(s || 0));
    const width = star(m[2]);
    const prec = star(m[3]);
    if (ai >= args.length) { out += `%!${verb}(MISSING)`; continue; }
    const a = args[ai++];
    const s = formatVerb(verb, a, flags, prec);
    if (s === undefined) { out += bad(verb, a); continue; }
    const fill = width === undefined ? 0 : width - [...s].length;
    if (fill <= 0) out += s;
    else if (flags.includes('-')) out += s + ' '.repeat(fill);
    else if (flags.includes('0') && verb !== 's' && verb !== 'q' && /^[+-]?[\d.]/.test(s)) out += s.replace(/^([+-]?)/, `$1${'0'.repeat(fill)}`);
    else out += ' '.repeat(fill) + s;
  }
  if (ai < args.length) out += `%!(EXTRA ${args.slice(ai).map((a) => `${goType(a)}=${fmtValue(a)}`).join(', ')})`;
  return out;
}

/** One verb applied to one value, or undefined for Go's `%!verb(type=value)`. */
function formatVerb(verb: string, a: unknown, flags: string, prec: number | undefined): string | undefined {
  const sign = (n: number, s: string) => (n >= 0 && flags.includes('+') ? `+${s}` : n >= 0 && flags.includes(' ') ? ` ${s}` : s);
  if (Array.isArray(a) && verb !== 'v' && verb !== 's') {
    const parts = a.map((e) => formatVerb(verb, e, flags, prec));
    return parts.includes(undefined) ? undefined : `[${parts.join(' ')}]`;
  }
  switch (verb) {
    case 'v': return typeof a === 'number' ? sign(a, goNumber(a)) : fmtValue(a);
    case 's': return typeof a === 'string' ? (prec === undefined ? a : [...a].slice(0, prec).join(''))
      : typeof a === 'object' && a !== null ? fmtValue(a) : undefined;
    case 'q': return typeof a === 'string' ? goQuote(a) : Number.isInteger(a) ? `'${String.fromCodePoint(a as number)}'` : undefined;
    case 't': return typeof a === 'boolean' ? String(a) : undefined;
  }
  if (typeof a === 'string' && (verb === 'x' || verb === 'X')) {
    const hex = Buffer.from(a).toString('hex');
    return (flags.includes('#') ? '0x' : '') + (verb === 'X' ? hex.toUpperCase() : hex);
  }
  if (typeof a !== 'number') return undefined;
  const base = ({ d: 10, x: 16, X: 16, o: 8, b: 2 } as Record<string, number>)[verb];
  if (base) {
    if (!Number.isInteger(a)) return undefined;
    const digits = BigInt(a < 0 ? -a : a).toString(base);
    const prefix = flags.includes('#') ? ({ 16: '0x', 8: '0', 2: '0b' } as Record<number, string>)[base] ?? '' : '';
    return sign(a, `${a < 0 ? '-' : ''}${prefix}${verb === 'X' ? digits.toUpperCase() : digits}`);
  }
  switch (verb) {
    case 'c': return Number.isInteger(a) ? String.fromCodePoint(a) : undefined;
    case 'U': return Number.isInteger(a) ? `U+${a.toString(16).toUpperCase().padStart(4, '0')}` : undefined;
    case 'f': case 'F': return sign(a, a.toFixed(prec ?? 6));
    case 'e': case 'E': {
      const [m, e] = a.toExponential(prec ?? 6).split('e') as [string, string];
      return sign(a, verb === 'E' ? `${m}${goExponent(e)}`.toUpperCase() : `${m}${goExponent(e)}`);
    }
    case 'g': case 'G': {
      const s = prec === undefined ? goNumber(a) : goPrecision(a, Math.max(1, prec));
      return sign(a, verb === 'G' ? s.toUpperCase() : s);
    }
  }
  return undefined;
}

interface Fn { min: number; max: number; call(args: unknown[]): unknown }
const fn = (min: number, max: number, call: (args: unknown[]) => unknown): Fn => ({ min, max, call });

/** Go's builtins and the docker CLI's functions (templates.go basicFunctions). */
const FUNCS = new Map<string, Fn>(Object.entries({
  and: fn(1, -1, () => undefined), // evaluated lazily by the executor, as Go does
  or: fn(1, -1, () => undefined),
  not: fn(1, 1, ([a]) => !truthy(a)),
  len: fn(1, 1, ([a]) => {
    if (a === undefined || a === null) return 0;
    if (typeof a === 'string') return Buffer.byteLength(a);
    if (Array.isArray(a)) return a.length;
    if (typeof a === 'object') return Object.keys(a).length;
    throw new FnError(`len of type ${goType(a)}`);
  }),
  index: fn(1, -1, ([x, ...keys]) => indexOf(x, keys)),
  slice: fn(1, 3, ([x, ...ix]) => {
    if (typeof x !== 'string' && !Array.isArray(x)) throw new FnError(`can't slice item of type ${goType(x)}`);
    const [from = 0, to = x.length] = ix.map((n, k) => int(n, k + 2));
    if (from < 0 || to > x.length || from > to) throw new FnError(`index out of range: [${from}:${to}] of length ${x.length}`);
    return x.slice(from, to);
  }),
  print: fn(0, -1, sprint),
  printf: fn(1, -1, ([f, ...rest]) => sprintf(str(f, 1), rest)),
  println: fn(0, -1, (args) => `${args.map(fmtValue).join(' ')}\n`),
  eq: fn(2, -1, ([a, ...bs]) => bs.some((b) => equal(a, b))),
  ne: fn(2, 2, ([a, b]) => !equal(a, b)),
  lt: fn(2, 2, ([a, b]) => less(a, b)),
  le: fn(2, 2, ([a, b]) => less(a, b) || equal(a, b)),
  gt: fn(2, 2, ([a, b]) => less(b, a)),
  ge: fn(2, 2, ([a, b]) => less(b, a) || equal(a, b)),
  // Docker's: JSON without the encoder's trailing newline and without HTML escaping.
  json: fn(1, 1, ([a]) => JSON.stringify(a ?? null)),
  split: fn(2, 2, ([s, sep]) => (str(sep, 2) === '' ? [...str(s, 1)] : str(s, 1).split(sep as string))),
  join: fn(2, 2, ([list, sep]) => {
    if (!Array.isArray(list)) throw new FnError(`argument 1 must be a list, not ${describe(list)}`);
    return list.map(fmtValue).join(str(sep, 2));
  }),
  // strings.Title: upper-case each letter that follows a separator (not a letter, digit or _).
  title: fn(1, 1, ([s]) => str(s, 1).replace(/(^|[^\p{L}\p{N}_])(\p{L})/gu, (_, sep: string, c: string) => sep + c.toUpperCase())),
  lower: fn(1, 1, ([s]) => str(s, 1).toLowerCase()),
  upper: fn(1, 1, ([s]) => str(s, 1).toUpperCase()),
  // padWithSpace: an empty string stays empty.
  pad: fn(3, 3, ([s, before, after]) => (str(s, 1) === '' ? '' : ' '.repeat(Math.max(0, int(before, 2))) + s + ' '.repeat(Math.max(0, int(after, 3))))),
  truncate: fn(2, 2, ([s, n]) => [...str(s, 1)].slice(0, Math.max(0, int(n, 2))).join('')),
}));

/**
 * Docker's HeaderFunctions: for a table's header row the text functions give back their first
 * argument, so `{{upper .Name}}` heads its column NAME (pad, printf … still apply, keeping alignment).
 */
const HEADER_FUNCS = new Map<string, Fn>(['json', 'split', 'join', 'title', 'lower', 'upper', 'truncate'].map((name) => [name,
  fn(FUNCS.get(name)!.min, FUNCS.get(name)!.max, ([a]) => a)]));

// ---- Executor ----------------------------------------------------------------------------

/** An execution error at an operand; Template.execute adds Go's `template: :L:C: executing … at <…>`. */
class ExecError extends Error {
  constructor(readonly op: { pos: number; text: string }, message: string) { super(message); }
}
const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');

/** The objects of `root` that Docker's types make Go maps (MAP_KEYS), found once per execution. */
function mapObjects(root: unknown): WeakSet<object> {
  const maps = new WeakSet<object>();
  const seen = new Set<object>();
  const walk = (v: unknown, key?: string, parent?: string): void => {
    if (!v || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) { for (const e of v) walk(e); return; }
    if (key !== undefined && (MAP_KEYS.has(key) || MAP_KEYS.has(`${parent}.${key}`))) maps.add(v);
    for (const [k, x] of Object.entries(v)) walk(x, k, key);
  };
  walk(root);
  return maps;
}

class Exec {
  readonly out: string[] = [];
  private readonly vars: { name: string; value: unknown }[];
  private readonly funcs: (name: string) => Fn;
  constructor(root: unknown, private readonly maps: WeakSet<object>, header: boolean) {
    this.vars = [{ name: '$', value: root }];
    this.funcs = (name) => (header && HEADER_FUNCS.get(name)) || FUNCS.get(name)!;
  }

  walk(dot: unknown, nodes: readonly Node[]): void {
    for (const node of nodes) {
      switch (node.kind) {
        case 'text': this.out.push(node.text); break;
        case 'action': {
          const v = this.pipe(dot, node.pipe);
          if (!node.pipe.decl.length) this.out.push(v === undefined || v === null ? '<no value>' : fmtValue(v));
          break;
        }
        case 'if': case 'with': {
          const mark = this.vars.length;
          const v = this.pipe(dot, node.pipe);
          if (truthy(v)) this.walk(node.kind === 'with' ? v : dot, node.list);
          else if (node.elseList) this.walk(dot, node.elseList);
          this.vars.length = mark;
          break;
        }
        case 'range': this.range(dot, node); break;
        case 'break': throw BREAK;
        case 'continue': throw CONTINUE;
      }
    }
  }

  private range(dot: unknown, node: Control): void {
    const mark = this.vars.length;
    const v = this.pipe(dot, node.pipe, true);
    let items: [unknown, unknown][];
    if (Array.isArray(v)) items = v.map((e, i) => [i, e]);
    else if (v === undefined || v === null) items = [];
    else if (typeof v === 'number' && Number.isInteger(v)) items = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
    else if (typeof v === 'object' && !(v instanceof HeaderRoot)) items = entries(v);
    else throw new ExecError(node.pipe.cmds[0]!.args[0]!, `range can't iterate over ${fmtValue(v)}`);
    const { decl, isAssign } = node.pipe;
    for (const [k, e] of items) {
      this.vars.length = mark;
      const values = decl.length === 2 ? [k, e] : [e];
      decl.forEach((name, i) => (isAssign ? this.setVar(name, values[i]) : this.vars.push({ name, value: values[i] })));
      try {
        this.walk(e, node.list);
      } catch (err) {
        if (err === BREAK) break;
        if (err !== CONTINUE) throw err;
      }
    }
    this.vars.length = mark;
    if (!items.length && node.elseList) this.walk(dot, node.elseList);
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) { this.vars[i]!.value = value; return; }
  }
  private getVar(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return undefined;
  }

  private pipe(dot: unknown, pipe: Pipe, forRange = false): unknown {
    let final: { v: unknown } | undefined;
    for (const cmd of pipe.cmds) final = { v: this.command(dot, cmd, final) };
    const v = final!.v;
    if (!forRange) for (const name of pipe.decl) (pipe.isAssign ? this.setVar(name, v) : this.vars.push({ name, value: v }));
    return v;
  }

  private command(dot: unknown, cmd: Command, final: { v: unknown } | undefined): unknown {
    const [first, ...rest] = cmd.args as [Operand, ...Operand[]];
    if (first.kind === 'fn') return this.call(dot, first, rest, final);
    if ((rest.length || final) && (first.kind === 'field' || first.kind === 'var' || first.kind === 'sub')) {
      // A method of the data (Docker's `.Label "key"` on ps rows): the chain ends at a function.
      const m = this.operand(dot, first, true);
      if (dot instanceof HeaderRoot && typeof m === 'string') return m; // a table's header row: the method's header
      if (typeof m === 'function') {
        const args = [...rest.map((a) => this.operand(dot, a)), ...(final ? [final.v] : [])];
        if (args.length !== m.length) throw new ExecError(first, `wrong number of args for ${first.text}: want ${m.length} got ${args.length}`);
        return (m as (...a: unknown[]) => unknown)(...args);
      }
    }
    if (rest.length || final) throw new ExecError(first, `can't give argument to non-function ${first.text}`);
    return this.operand(dot, first);
  }

  /** An operand's value; a method at the end of a field chain is called with no arguments (Go's rule) unless `method`. */
  private operand(dot: unknown, op: Operand, method = false): unknown {
    let v: unknown;
    switch (op.kind) {
      case 'dot': return dot;
      case 'lit': return op.value;
      case 'fn': return this.call(dot, op, [], undefined);
      case 'field': v = this.chain(op, dot, op.names); break;
      case 'var': v = this.chain(op, this.getVar(op.name), op.names); break;
      case 'sub': v = this.chain(op, this.pipe(dot, op.pipe), op.names); break;
    }
    if (typeof v !== 'function' || method) return v;
    if (v.length) throw new ExecError(op, `wrong number of args for ${op.text}: want ${v.length} got 0`);
    return (v as () => unknown)();
  }

  /** `.A.B` from `recv`: struct fields must exist, map keys (MAP_KEYS) may be missing. */
  private chain(op: Operand, recv: unknown, names: readonly string[]): unknown {
    let v = recv;
    for (const [i, name] of names.entries()) {
      if (v instanceof HeaderRoot) return v.header(name);
      if (v === undefined) return undefined; // a missing map entry, or no data: Go's "no value"
      if (v === null) {
        // null under a map key is an empty map; elsewhere a nil pointer, which Go refuses to follow.
        const key = names[i - 1];
        if (key === undefined || MAP_KEYS.has(key) || MAP_KEYS.has(`${names[i - 2]}.${key}`)) return undefined;
        throw new ExecError(op, `nil pointer evaluating .${names.slice(0, i).join('.')}.${name}: .${names.slice(0, i).join('.')} is null`);
      }
      if (Array.isArray(v)) throw new ExecError(op, `can't evaluate field ${name} in a list: use index or range`);
      if (typeof v !== 'object') throw new ExecError(op, `can't evaluate field ${name} in type ${goType(v)}`);
      const o = v as Record<string, unknown>;
      if (Object.hasOwn(o, name) && o[name] !== undefined) v = o[name];
      else if (this.maps.has(o)) v = undefined;
      else throw new ExecError(op, unknownField(name, o));
    }
    return v;
  }

  private call(dot: unknown, op: Extract<Operand, { kind: 'fn' }>, argOps: readonly Operand[], final: { v: unknown } | undefined): unknown {
    const f = this.funcs(op.name);
    const n = argOps.length + (final ? 1 : 0);
    if (n < f.min || (f.max >= 0 && n > f.max)) {
      throw new ExecError(op, `wrong number of args for ${op.name}: want ${f.min === f.max ? f.min : f.max < 0 ? `at least ${f.min}` : `${f.min} to ${f.max}`} got ${n}`);
    }
    const arg = (i: number) => (i < argOps.length ? this.operand(dot, argOps[i]!) : final!.v);
    if (op.name === 'and' || op.name === 'or') {
      let v: unknown;
      for (let i = 0; i < n; i++) if (truthy(v = arg(i)) === (op.name === 'or')) return v;
      return v;
    }
    const args = Array.from({ length: n }, (_, i) => arg(i));
    try {
      return f.call(args);
    } catch (err) {
      if (err instanceof FnError) throw new ExecError(op, `error calling ${op.name}: ${err.message}`);
      throw err;
    }
  }
}

/** "field X does not exist", with the fields that do (at most 20) or the one differing in case. */
function unknownField(name: string, o: Record<string, unknown>): string {
  const keys = Object.keys(o).filter((k) => o[k] !== undefined);
  const near = keys.find((k) => k.toLowerCase() === name.toLowerCase());
  if (near) return `field "${name}" does not exist (did you mean "${near}"?)`;
  if (!keys.length) return `field "${name}" does not exist (the object has no fields)`;
  return `field "${name}" does not exist (valid fields: ${keys.slice(0, 20).join(', ')}${keys.length > 20 ? `, … ${keys.length - 20} more` : ''})`;
}

// ---- Public API --------------------------------------------------------------------------

/** A parsed template: execute it against any number of documents. */
export class Template {
  /** Use parseTemplate. */
  constructor(readonly text: string, private readonly nodes: readonly Node[]) {}

  /**
   * The template's output for `data`. Throws BerthError EINVALID_ARG, as Go's
   * `template: :1:2: executing "{{.Nope}}" at <.Nope>: field "Nope" does not exist (…)`.
   */
  execute(data: unknown): string {
    const ex = new Exec(data, mapObjects(data), false);
    try {
      ex.walk(data, this.nodes);
    } catch (err) {
      if (!(err instanceof ExecError)) throw err;
      const [line, col] = lineCol(this.text, err.op.pos);
      const shown = this.text.length > 60 ? `${this.text.slice(0, 57)}...` : this.text;
      throw new BerthError('EINVALID_ARG', `template: :${line}:${col}: executing ${JSON.stringify(shown)} at <${err.op.text}>: ${err.message}`);
    }
    return ex.out.join('');
  }

  /**
   * The header row of a `table` format, made as Docker makes it: the template run with each
   * field standing for its header text (`headers[field]`, else dockerHeader(field)) and Docker's
   * HeaderFunctions. As in Docker, an error ends the header where it happened.
   */
  header(headers: Readonly<Record<string, string>> = {}): string {
    const root = new HeaderRoot(headers);
    const ex = new Exec(root, new WeakSet(), true);
    try {
      ex.walk(root, this.nodes);
    } catch (err) {
      if (!(err instanceof ExecError)) throw err;
    }
    return ex.out.join('');
  }
}

/**
 * Parse a Go template. Throws BerthError EINVALID_ARG with Go's message and line
 * (`template: :1: unclosed action`, `template: :1: function "foo" not defined`).
 */
export function parseTemplate(text: string): Template {
  return new Template(text, new Parser(text, lex(text)).parse());
}

const parsed = new Map<string, Template>();

/** Parse (once: the last few templates are kept) and execute `text` against `data`. */
export function renderTemplate(text: string, data: unknown): string {
  let tpl = parsed.get(text);
  if (!tpl) {
    tpl = parseTemplate(text);
    if (parsed.size >= 16) parsed.delete(parsed.keys().next().value!);
    parsed.set(text, tpl);
  }
  return tpl.execute(data);
}

/** Docker's test for a table format: it starts with "table" (`table` alone means the default columns). */
export function isTableFormat(text: string): boolean {
  return text.startsWith('table');
}

/** A `table …` format, parsed: its header row and rows, aligned as docker's tabwriter does. */
export interface TableTemplate {
  readonly template: Template;
  /** The header row, cells separated by tabs. */
  readonly header: string;
  /** The lines of the header and one row per item, aligned in columns, each ending in "\n". */
  render(rows: readonly unknown[]): string;
}

/**
 * Parse Docker's `table TEMPLATE` format (the caller handles the bare `table`): the text after
 * "table", trimmed of spaces as Docker does. `headers` maps a field to its column's header (ps's
 * `ID` heads "CONTAINER ID"); a field without one heads dockerHeader(field).
 *
 * @example
 *   tableTemplate('table {{.ID}}\t{{.Names}}', { headers: { ID: 'CONTAINER ID' } }).render(rows)
 *   // "CONTAINER ID   NAMES\nabc123         web\n"
 */
export function tableTemplate(text: string, opts: { headers?: Readonly<Record<string, string>> } = {}): TableTemplate {
  if (!isTableFormat(text)) throw new BerthError('EINVALID_ARG', `format ${JSON.stringify(text)} is not a table format: it must start with "table"`);
  const template = parseTemplate(text.slice('table'.length).replace(/^ +| +$/g, ''));
  const header = template.header(opts.headers);
  return {
    template,
    header,
    render: (rows) => alignTabs([header, ...rows.map((r) => template.execute(r))].join('\n').split('\n')).map((l) => `${l}\n`).join(''),
  };
}

/**
 * Go's text/tabwriter as docker's tables use it (NewWriter(out, 10, 1, 3, ' ', 0)): cells end
 * at a tab; a column is a run of consecutive lines that have a cell there, as wide as its widest
 * cell plus `padding`, at least `minWidth`; the text after a line's last tab is not padded.
 */
export function alignTabs(lines: readonly string[], minWidth = 10, padding = 3): string[] {
  const cells = lines.map((l) => l.split('\t'));
  const out: string[] = new Array<string>(lines.length).fill('');
  const widths: number[] = [];
  const width = (s: string) => [...s].length;
  const write = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      out[i] = cells[i]!.map((c, j) => (j < widths.length ? c + ' '.repeat(Math.max(0, widths[j]! - width(c))) : c)).join('');
    }
  };
  // Go's Writer.format: find each block of lines with a cell in this column, size it, recurse.
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let i = line0; i < line1; i++) {
      if (column >= cells[i]!.length - 1) continue;
      write(line0, i);
      line0 = i;
      let w = minWidth;
      for (; i < line1 && column < cells[i]!.length - 1; i++) w = Math.max(w, width(cells[i]![column]!) + padding);
      widths.push(w);
      format(line0, i);
      widths.pop();
      line0 = i;
      i--;
    }
    write(line0, line1);
  };
  format(0, cells.length);
  return out;
}
