/**
 * Go text/template for the `--format` flags, rendering exactly like the docker CLI:
 * Go's text/template language and builtins plus the functions docker/cli registers
 * in templates/templates.go (json, split, join, title, lower, upper, pad, truncate).
 *
 * Value model, mapping JS data onto Go's reflection rules:
 * - `undefined` is Go's invalid value (a missing map key): printed as `<no value>`.
 * - `null` is a nil pointer, slice or map: printed as `<nil>`, ranges as empty, has len 0.
 * - Plain objects and Maps are Go maps: a missing key yields `<no value>`, iteration is in
 *   sorted key order, and a function-valued entry is called like a method.
 * - Other objects (class instances) are Go structs: capitalised members are fields or
 *   methods (methods are called with the command's arguments); unknown names are errors.
 * - Numbers are Go ints when integral (within int64 range), float64 otherwise; strings are measured in UTF-8
 *   bytes where Go measures bytes (len, index, slice, truncate).
 */

// ─── Public API ──────────────────────────────────────────────────────────────

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export interface CompileOptions {
  /**
   * Use docker's header function set (json, split, join, title, lower, upper and truncate
   * return their first argument unchanged), as docker/cli does for a table's header row.
   */
  headerFunctions?: boolean;
}

/** Parses once; throws TemplateError with a Go-like message on a bad template. */
export function compileTemplate(src: string, options: CompileOptions = {}): (data: unknown) => string {
  const funcs = options.headerFunctions ? headerFuncs() : defaultFuncs();
  const templates = new Parser(new Lexer(src).run(), funcs).parse();
  return (data: unknown) => new Executor(src, templates, funcs).execute(data);
}

/** compile + execute. Execution errors also throw TemplateError. */
export function renderTemplate(src: string, data: unknown): string {
  return compileTemplate(src)(data);
}

/** Go's fmt %v rendering of a value, shared with table output. */
export function formatValue(v: unknown): string {
  return printArg(v, 'v', NO_FLAGS);
}

/** docker/cli's format preprocessing of escapes: a literal `\t` / `\n` becomes a tab / newline. */
export function preprocessFormat(src: string): string {
  return src.replace(/\\[tn]/g, (m) => (m === '\\t' ? '\t' : '\n'));
}

/**
 * docker/cli's Format.templateString: `table` alone → "", `json` → `{{json .}}`, otherwise
 * strip a `table` prefix, trim spaces (only spaces) and expand `\t` / `\n`.
 */
export function templateStringFromFormat(format: string): string {
  if (format === 'table') return '';
  if (format === 'json') return '{{json .}}';
  const body = format.startsWith('table') ? format.slice('table'.length) : format;
  return preprocessFormat(body.replace(/^ +| +$/g, ''));
}

// ─── Lexer ───────────────────────────────────────────────────────────────────

type Keyword = 'block' | 'break' | 'continue' | 'define' | 'dot' | 'else' | 'end' | 'if' | 'nil' | 'range' | 'template' | 'with';

type TokenKind =
  | Keyword
  | 'assign'
  | 'bool'
  | 'char'
  | 'charConstant'
  | 'complex'
  | 'declare'
  | 'eof'
  | 'error'
  | 'field'
  | 'identifier'
  | 'leftDelim'
  | 'leftParen'
  | 'number'
  | 'pipe'
  | 'rawString'
  | 'rightDelim'
  | 'rightParen'
  | 'space'
  | 'string'
  | 'text'
  | 'variable';

interface Token {
  kind: TokenKind;
  /** UTF-16 index into the source (converted to Go's byte offsets only for messages). */
  pos: number;
  val: string;
  line: number;
}

const KEYWORDS = new Map<string, Keyword>([
  ['.', 'dot'],
  ['block', 'block'],
  ['break', 'break'],
  ['continue', 'continue'],
  ['define', 'define'],
  ['else', 'else'],
  ['end', 'end'],
  ['if', 'if'],
  ['nil', 'nil'],
  ['range', 'range'],
  ['template', 'template'],
  ['with', 'with'],
]);
const KEYWORD_KINDS = new Set<TokenKind>(KEYWORDS.values());

const EOF = -1;
const LEFT_DELIM = '{{';
const RIGHT_DELIM = '}}';
const LEFT_COMMENT = '/*';
const RIGHT_COMMENT = '*/';
const TRIM_MARKER_LEN = 2; // "- " after a left delimiter, " -" before a right one

type StateFn = (l: Lexer) => StateFn | null;

class Lexer {
  pos = 0;
  start = 0;
  parenDepth = 0;
  private atEof = false;
  private readonly tokens: Token[] = [];
  private readonly newlines: number[] = [];

  constructor(readonly input: string) {
    for (let i = input.indexOf('\n'); i >= 0; i = input.indexOf('\n', i + 1)) this.newlines.push(i);
  }

  run(): Token[] {
    let state: StateFn | null = lexText;
    while (state) state = state(this);
    return this.tokens;
  }

  next(): number {
    if (this.pos >= this.input.length) {
      this.atEof = true;
      return EOF;
    }
    const cp = this.input.codePointAt(this.pos) as number;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  peek(): number {
    const cp = this.next();
    this.backup();
    return cp;
  }

  /** Steps back one code point; a no-op once the end was reached (as in Go). */
  backup(): void {
    if (this.atEof || this.pos === 0) return;
    const low = this.input.charCodeAt(this.pos - 1);
    const pair = low >= 0xdc00 && low <= 0xdfff && this.pos >= 2 && isHighSurrogate(this.input.charCodeAt(this.pos - 2));
    this.pos -= pair ? 2 : 1;
  }

  accept(valid: string): boolean {
    const cp = this.next();
    if (cp !== EOF && valid.includes(String.fromCodePoint(cp))) return true;
    this.backup();
    return false;
  }

  acceptRun(valid: string): void {
    while (this.accept(valid));
  }

  emit(kind: TokenKind): void {
    this.tokens.push({ kind, pos: this.start, val: this.input.slice(this.start, this.pos), line: this.lineAt(this.start) });
    this.start = this.pos;
  }

  ignore(): void {
    this.start = this.pos;
  }

  errorf(message: string): null {
    this.tokens.push({ kind: 'error', pos: this.start, val: message, line: this.lineAt(this.start) });
    return null;
  }

  lineAt(pos: number): number {
    let lo = 0;
    let hi = this.newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.newlines[mid] < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }

  /** [at a right delimiter, it carries a trim marker]. */
  atRightDelim(): [boolean, boolean] {
    if (hasRightTrimMarker(this.input, this.pos) && this.input.startsWith(RIGHT_DELIM, this.pos + TRIM_MARKER_LEN)) return [true, true];
    return [this.input.startsWith(RIGHT_DELIM, this.pos), false];
  }

  /** Whether an identifier may end here; this splits `.X.Y` and rejects `$x+2`. */
  atTerminator(): boolean {
    const r = this.peek();
    if (r === EOF || isSpace(r)) return true;
    if ('.,|:)('.includes(String.fromCodePoint(r))) return true;
    return this.input.startsWith(RIGHT_DELIM, this.pos);
  }

  scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    const r = this.peek();
    if (r !== EOF && isAlphaNumeric(r)) {
      this.next();
      return false;
    }
    return true;
  }
}

function lexText(l: Lexer): StateFn | null {
  const x = l.input.indexOf(LEFT_DELIM, l.pos);
  if (x < 0) {
    l.pos = l.input.length;
    if (l.pos > l.start) l.emit('text');
    l.emit('eof');
    return null;
  }
  if (x > l.pos) {
    const trim = hasLeftTrimMarker(l.input, x + LEFT_DELIM.length) ? rightTrimLength(l.input.slice(l.start, x)) : 0;
    l.pos = x - trim;
    if (l.pos > l.start) l.emit('text');
    l.pos = x;
    l.ignore();
  }
  return lexLeftDelim;
}

function lexLeftDelim(l: Lexer): StateFn {
  l.pos += LEFT_DELIM.length;
  const afterMarker = hasLeftTrimMarker(l.input, l.pos) ? TRIM_MARKER_LEN : 0;
  if (l.input.startsWith(LEFT_COMMENT, l.pos + afterMarker)) {
    l.pos += afterMarker;
    l.ignore();
    return lexComment;
  }
  l.emit('leftDelim');
  l.pos += afterMarker;
  l.ignore();
  l.parenDepth = 0;
  return lexInsideAction;
}

function lexComment(l: Lexer): StateFn | null {
  l.pos += LEFT_COMMENT.length;
  const x = l.input.indexOf(RIGHT_COMMENT, l.pos);
  if (x < 0) return l.errorf('unclosed comment');
  l.pos = x + RIGHT_COMMENT.length;
  const [delim, trim] = l.atRightDelim();
  if (!delim) return l.errorf('comment ends before closing delimiter');
  l.pos += (trim ? TRIM_MARKER_LEN : 0) + RIGHT_DELIM.length;
  if (trim) l.pos += leftTrimLength(l.input, l.pos);
  l.ignore();
  return lexText;
}

function lexRightDelim(l: Lexer): StateFn {
  const [, trim] = l.atRightDelim();
  if (trim) {
    l.pos += TRIM_MARKER_LEN;
    l.ignore();
  }
  l.pos += RIGHT_DELIM.length;
  l.emit('rightDelim');
  if (trim) {
    l.pos += leftTrimLength(l.input, l.pos);
    l.ignore();
  }
  return lexText;
}

function lexInsideAction(l: Lexer): StateFn | null {
  const [delim] = l.atRightDelim();
  if (delim) return l.parenDepth === 0 ? lexRightDelim : l.errorf('unclosed left paren');
  const r = l.next();
  if (r === EOF) return l.errorf('unclosed action');
  if (isSpace(r)) {
    l.backup(); // the space may start a " -}}"
    return lexSpace;
  }
  const punctuation = lexPunctuation(l, String.fromCodePoint(r));
  if (punctuation !== undefined) return punctuation;
  if (isAlphaNumeric(r)) {
    l.backup();
    return lexIdentifier;
  }
  if (r >= 0x20 && r < 0x7f) {
    l.emit('char');
    return lexInsideAction;
  }
  return l.errorf(`unrecognized character in action: ${formatRuneU(r)}`);
}

/** Single-character tokens and the starts of quoted strings, variables, fields and numbers. */
function lexPunctuation(l: Lexer, ch: string): StateFn | null | undefined {
  switch (ch) {
    case '=':
      l.emit('assign');
      return lexInsideAction;
    case ':':
      if (l.next() !== 0x3d) return l.errorf('expected :=');
      l.emit('declare');
      return lexInsideAction;
    case '|':
      l.emit('pipe');
      return lexInsideAction;
    case '"':
      return lexQuote;
    case '`':
      return lexRawQuote;
    case '$':
      return lexVariable;
    case "'":
      return lexChar;
    case '(':
      l.parenDepth++;
      l.emit('leftParen');
      return lexInsideAction;
    case ')':
      l.parenDepth--;
      if (l.parenDepth < 0) return l.errorf('unexpected right paren');
      l.emit('rightParen');
      return lexInsideAction;
  }
  if (ch === '.' && l.pos < l.input.length && !isDigitChar(l.input[l.pos])) return lexField;
  if (ch === '.' || ch === '+' || ch === '-' || isDigitChar(ch)) {
    l.backup();
    return lexNumber;
  }
  return undefined;
}

function lexSpace(l: Lexer): StateFn {
  let count = 0;
  while (isSpace(l.peek())) {
    l.next();
    count++;
  }
  // A run ending in " -}}" leaves its last space to the trim-marked delimiter.
  if (hasRightTrimMarker(l.input, l.pos - 1) && l.input.startsWith(RIGHT_DELIM, l.pos - 1 + TRIM_MARKER_LEN)) {
    l.backup();
    if (count === 1) return lexRightDelim;
  }
  l.emit('space');
  return lexInsideAction;
}

function scanAlphaNumeric(l: Lexer): number {
  let r: number;
  do r = l.next();
  while (r !== EOF && isAlphaNumeric(r));
  l.backup();
  return r;
}

function lexIdentifier(l: Lexer): StateFn | null {
  const r = scanAlphaNumeric(l);
  if (!l.atTerminator()) return l.errorf(`bad character ${formatRuneU(r)}`);
  const word = l.input.slice(l.start, l.pos);
  l.emit(KEYWORDS.get(word) ?? (word === 'true' || word === 'false' ? 'bool' : 'identifier'));
  return lexInsideAction;
}

function lexField(l: Lexer): StateFn | null {
  return lexFieldOrVariable(l, 'field');
}

function lexVariable(l: Lexer): StateFn | null {
  return lexFieldOrVariable(l, 'variable');
}

function lexFieldOrVariable(l: Lexer, kind: 'field' | 'variable'): StateFn | null {
  if (l.atTerminator()) {
    l.emit(kind === 'variable' ? 'variable' : 'dot');
    return lexInsideAction;
  }
  const r = scanAlphaNumeric(l);
  if (!l.atTerminator()) return l.errorf(`bad character ${formatRuneU(r)}`);
  l.emit(kind);
  return lexInsideAction;
}

function lexQuoted(l: Lexer, quote: number, kind: TokenKind, unterminated: string): StateFn | null {
  for (;;) {
    let r = l.next();
    if (r === 0x5c) {
      r = l.next();
      if (r !== EOF && r !== 0x0a) continue;
    }
    if (r === EOF || r === 0x0a) return l.errorf(unterminated);
    if (r === quote) break;
  }
  l.emit(kind);
  return lexInsideAction;
}

function lexChar(l: Lexer): StateFn | null {
  return lexQuoted(l, 0x27, 'charConstant', 'unterminated character constant');
}

function lexQuote(l: Lexer): StateFn | null {
  return lexQuoted(l, 0x22, 'string', 'unterminated quoted string');
}

function lexRawQuote(l: Lexer): StateFn | null {
  const end = l.input.indexOf('`', l.pos);
  if (end < 0) return l.errorf('unterminated raw quoted string');
  l.pos = end + 1;
  l.emit('rawString');
  return lexInsideAction;
}

function lexNumber(l: Lexer): StateFn | null {
  const bad = (): null => l.errorf(`bad number syntax: ${goQuote(l.input.slice(l.start, l.pos))}`);
  if (!l.scanNumber()) return bad();
  const sign = l.peek();
  if (sign === 0x2b || sign === 0x2d) {
    if (!l.scanNumber() || l.input[l.pos - 1] !== 'i') return bad();
    l.emit('complex');
  } else {
    l.emit('number');
  }
  return lexInsideAction;
}

function isSpace(r: number): boolean {
  return r === 0x20 || r === 0x09 || r === 0x0d || r === 0x0a;
}

function isSpaceChar(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

function isDigitChar(ch: string): boolean {
  return ch >= '0' && ch <= '9';
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isAlphaNumeric(r: number): boolean {
  return r === 0x5f || /[\p{L}\p{Nd}]/u.test(String.fromCodePoint(r));
}

function hasLeftTrimMarker(s: string, at: number): boolean {
  return s[at] === '-' && isSpaceChar(s[at + 1]);
}

function hasRightTrimMarker(s: string, at: number): boolean {
  return isSpaceChar(s[at]) && s[at + 1] === '-';
}

function rightTrimLength(s: string): number {
  let n = 0;
  while (n < s.length && isSpaceChar(s[s.length - 1 - n])) n++;
  return n;
}

function leftTrimLength(s: string, at: number): number {
  let n = 0;
  while (isSpaceChar(s[at + n])) n++;
  return n;
}

/** Go's item.String(), used in "unexpected ... in ..." messages. */
function tokenString(t: Token): string {
  if (t.kind === 'eof') return 'EOF';
  if (t.kind === 'error') return t.val;
  if (KEYWORD_KINDS.has(t.kind)) return `<${t.val}>`;
  if (Buffer.byteLength(t.val) > 10) return `${goQuote(firstRunes(t.val, 10))}...`;
  return goQuote(t.val);
}

// ─── AST ─────────────────────────────────────────────────────────────────────

interface ListNode {
  type: 'list';
  pos: number;
  nodes: Node[];
}
interface TextNode {
  type: 'text';
  pos: number;
  text: string;
}
interface ActionNode {
  type: 'action';
  pos: number;
  pipe: PipeNode;
}
interface BranchNode {
  type: 'if' | 'range' | 'with';
  pos: number;
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}
interface TemplateNode {
  type: 'template';
  pos: number;
  name: string;
  pipe: PipeNode | null;
}
interface LoopControlNode {
  type: 'break' | 'continue';
  pos: number;
}
/** `{{end}}` / `{{else}}`: only seen while parsing, never stored in a tree. */
interface Terminator {
  type: 'end' | 'else';
  pos: number;
}
type Node = ListNode | TextNode | ActionNode | BranchNode | TemplateNode | LoopControlNode;

interface PipeNode {
  type: 'pipe';
  pos: number;
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}
interface CommandNode {
  type: 'command';
  pos: number;
  args: ArgNode[];
}
interface FieldNode {
  type: 'field';
  pos: number;
  ident: string[];
}
interface VariableNode {
  type: 'variable';
  pos: number;
  ident: string[];
}
interface ChainNode {
  type: 'chain';
  pos: number;
  node: ArgNode;
  field: string[];
}
interface IdentifierNode {
  type: 'identifier';
  pos: number;
  name: string;
}
interface DotNode {
  type: 'dot';
  pos: number;
}
interface NilNode {
  type: 'nil';
  pos: number;
}
interface BoolNode {
  type: 'bool';
  pos: number;
  value: boolean;
}
interface NumberNode {
  type: 'number';
  pos: number;
  text: string;
  value: number;
  isInt: boolean;
}
interface StringNode {
  type: 'string';
  pos: number;
  quoted: string;
  text: string;
}
type ArgNode = FieldNode | VariableNode | ChainNode | IdentifierNode | DotNode | NilNode | BoolNode | NumberNode | StringNode | PipeNode;
type AnyNode = Node | Terminator | PipeNode | CommandNode | ArgNode;

type Templates = ReadonlyMap<string, ListNode>;

/** Go's Node.String(): the source-like text shown in error contexts. */
function nodeString(n: AnyNode): string {
  switch (n.type) {
    case 'list':
      return n.nodes.map(nodeString).join('');
    case 'text':
      return n.text;
    case 'action':
      return `{{${nodeString(n.pipe)}}}`;
    case 'if':
    case 'range':
    case 'with':
      return `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}${n.elseList ? `{{else}}${nodeString(n.elseList)}` : ''}{{end}}`;
    case 'template':
      return `{{template ${goQuote(n.name)}${n.pipe ? ` ${nodeString(n.pipe)}` : ''}}}`;
    case 'break':
    case 'continue':
    case 'end':
    case 'else':
      return `{{${n.type}}}`;
    case 'pipe':
      return pipeString(n);
    case 'command':
      return n.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'field':
      return n.ident.map((i) => `.${i}`).join('');
    case 'variable':
      return n.ident.join('.');
    case 'chain':
      return (n.node.type === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node)) + n.field.map((f) => `.${f}`).join('');
    case 'identifier':
      return n.name;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(n.value);
    case 'number':
      return n.text;
    case 'string':
      return n.quoted;
  }
}

function pipeString(p: PipeNode): string {
  const decl = p.decl.length > 0 ? `${p.decl.map(nodeString).join(', ')}${p.isAssign ? ' = ' : ' := '}` : '';
  return decl + p.cmds.map(nodeString).join(' | ');
}

// ─── Parser ──────────────────────────────────────────────────────────────────

const OPERAND_STARTS = new Set<TokenKind>([
  'bool',
  'charConstant',
  'complex',
  'dot',
  'field',
  'identifier',
  'number',
  'nil',
  'rawString',
  'string',
  'variable',
  'leftParen',
]);
const NON_EXECUTABLE = new Set<string>(['bool', 'dot', 'nil', 'number', 'string']);

class Parser {
  private index = 0;
  private furthest = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private actionLine = 0;
  private readonly templates = new Map<string, ListNode>();

  constructor(
    private readonly tokens: Token[],
    private readonly funcs: FuncTable,
  ) {}

  parse(): Templates {
    const root = this.newList(this.peek().pos);
    while (this.peek().kind !== 'eof') {
      if (this.peek().kind === 'leftDelim') {
        const mark = this.index;
        this.next();
        if (this.nextNonSpace().kind === 'define') {
          this.parseDefinition();
          continue;
        }
        this.index = mark;
      }
      const n = this.textOrAction();
      if (isTerminator(n)) this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    this.addTemplate('', root);
    return this.templates;
  }

  // Token stream. Like Go's parser, error lines come from the furthest token read.

  private next(): Token {
    const i = this.index++;
    this.furthest = Math.max(this.furthest, i);
    return this.tokenAt(i);
  }

  private tokenAt(i: number): Token {
    if (i < this.tokens.length) return this.tokens[i];
    const last = this.tokens[this.tokens.length - 1];
    return { kind: 'eof', pos: last ? last.pos : 0, val: '', line: last ? last.line : 1 };
  }

  private backup(): void {
    this.index--;
  }

  private peek(): Token {
    const t = this.next();
    this.backup();
    return t;
  }

  private nextNonSpace(): Token {
    let t = this.next();
    while (t.kind === 'space') t = this.next();
    return t;
  }

  /** Consumes any spaces but not the token returned (as Go's peekNonSpace does). */
  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  private expect(kind: TokenKind, context: string): Token {
    const t = this.nextNonSpace();
    if (t.kind !== kind) this.unexpected(t, context);
    return t;
  }

  private errorf(message: string): never {
    throw new TemplateError(`template: :${this.tokenAt(this.furthest).line}: ${message}`);
  }

  private unexpected(t: Token, context: string): never {
    if (t.kind !== 'error') this.errorf(`unexpected ${tokenString(t)} in ${context}`);
    let extra = '';
    if (this.actionLine !== 0 && this.actionLine !== t.line) {
      extra = t.val.endsWith(' action') ? ` started at :${this.actionLine}` : ` in action started at :${this.actionLine}`;
    }
    this.errorf(`${t.val}${extra}`);
  }

  // Templates and lists.

  private newList(pos: number): ListNode {
    return { type: 'list', pos, nodes: [] };
  }

  private addTemplate(name: string, list: ListNode): void {
    const existing = this.templates.get(name);
    if (!existing || isEmptyTree(existing)) this.templates.set(name, list);
    else if (!isEmptyTree(list)) this.errorf(`template: multiple definition of template ${goQuote(name)}`);
  }

  /** Runs a nested template body (define/block) with its own variable scope. */
  private inSubtree(parseBody: () => void): void {
    const saved = { vars: this.vars, rangeDepth: this.rangeDepth };
    this.vars = ['$'];
    this.rangeDepth = 0;
    try {
      parseBody();
    } finally {
      this.vars = saved.vars;
      this.rangeDepth = saved.rangeDepth;
    }
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const token = this.nextNonSpace();
    if (token.kind !== 'string' && token.kind !== 'rawString') this.unexpected(token, context);
    const name = this.unquote(token.val);
    this.expect('rightDelim', context);
    this.inSubtree(() => {
      const [list, end] = this.itemList();
      if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
      this.addTemplate(name, list);
    });
  }

  private itemList(): [ListNode, Terminator] {
    const list = this.newList(this.peekNonSpace().pos);
    while (this.peekNonSpace().kind !== 'eof') {
      const n = this.textOrAction();
      if (isTerminator(n)) return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node | Terminator {
    const t = this.nextNonSpace();
    if (t.kind === 'text') return { type: 'text', pos: t.pos, text: t.val };
    if (t.kind !== 'leftDelim') this.unexpected(t, 'input');
    this.actionLine = t.line;
    try {
      return this.action();
    } finally {
      this.actionLine = 0;
    }
  }

  // Actions and control structures.

  private action(): Node | Terminator {
    const t = this.nextNonSpace();
    switch (t.kind) {
      case 'block':
        return this.blockControl();
      case 'break':
      case 'continue':
        return this.loopControl(t.kind, t);
      case 'else':
        return this.elseControl();
      case 'end':
        return { type: 'end', pos: this.expect('rightDelim', 'end').pos };
      case 'if':
      case 'range':
      case 'with':
        return this.parseControl(t.kind);
      case 'template':
        return this.templateControl();
    }
    this.backup();
    const start = this.peek();
    return { type: 'action', pos: start.pos, pipe: this.pipeline('command', 'rightDelim') };
  }

  private loopControl(kind: 'break' | 'continue', t: Token): LoopControlNode {
    const next = this.nextNonSpace();
    if (next.kind !== 'rightDelim') this.unexpected(next, `{{${kind}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${kind}}} outside {{range}}`);
    return { type: kind, pos: t.pos };
  }

  private elseControl(): Terminator {
    const peek = this.peekNonSpace();
    // "{{else if ...}}" / "{{else with ...}}" leave the keyword for parseControl.
    if (peek.kind === 'if' || peek.kind === 'with') return { type: 'else', pos: peek.pos };
    return { type: 'else', pos: this.expect('rightDelim', 'else').pos };
  }

  private parseControl(context: 'if' | 'range' | 'with'): BranchNode {
    const varsMark = this.vars.length;
    try {
      const pipe = this.pipeline(context, 'rightDelim');
      if (context === 'range') this.rangeDepth++;
      const [list, next] = this.itemList();
      if (context === 'range') this.rangeDepth--;
      const elseList = next.type === 'else' ? this.elseBranch(context, next) : null;
      return { type: context, pos: pipe.pos, pipe, list, elseList };
    } finally {
      this.vars.length = varsMark;
    }
  }

  private elseBranch(context: 'if' | 'range' | 'with', elseNode: Terminator): ListNode {
    const chained = this.peek().kind;
    if ((context === 'if' && chained === 'if') || (context === 'with' && chained === 'with')) {
      // {{else if x}} is {{else}}{{if x}}...{{end}} sharing the outer {{end}}.
      this.next();
      const list = this.newList(elseNode.pos);
      list.nodes.push(this.parseControl(context));
      return list;
    }
    const [list, end] = this.itemList();
    if (end.type !== 'end') this.errorf(`expected end; found ${nodeString(end)}`);
    return list;
  }

  private blockControl(): TemplateNode {
    const context = 'block clause';
    const token = this.nextNonSpace();
    const name = this.templateName(token, context);
    const pipe = this.pipeline(context, 'rightDelim');
    this.inSubtree(() => {
      const [list, end] = this.itemList();
      if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
      this.addTemplate(name, list);
    });
    return { type: 'template', pos: token.pos, name, pipe };
  }

  private templateControl(): TemplateNode {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.templateName(token, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().kind !== 'rightDelim') {
      this.backup();
      pipe = this.pipeline(context, 'rightDelim');
    }
    return { type: 'template', pos: token.pos, name, pipe };
  }

  private templateName(t: Token, context: string): string {
    if (t.kind !== 'string' && t.kind !== 'rawString') this.unexpected(t, context);
    return this.unquote(t.val);
  }

  // Pipelines, commands and operands.

  private pipeline(context: string, end: TokenKind): PipeNode {
    const first = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: first.pos, isAssign: false, decl: [], cmds: [] };
    this.declarations(pipe, context);
    for (;;) {
      const t = this.nextNonSpace();
      if (t.kind === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      if (!OPERAND_STARTS.has(t.kind)) this.unexpected(t, context);
      this.backup();
      pipe.cmds.push(this.command());
    }
  }

  /** `$x :=`, `$x =`, and range's `$i, $v :=`. */
  private declarations(pipe: PipeNode, context: string): void {
    for (;;) {
      const v = this.peekNonSpace();
      if (v.kind !== 'variable') return;
      const mark = this.index;
      this.next();
      const next = this.peekNonSpace();
      if (next.kind === 'assign' || next.kind === 'declare') {
        pipe.isAssign = next.kind === 'assign';
        this.nextNonSpace();
        this.declare(pipe, v);
        return;
      }
      if (next.kind !== 'char' || next.val !== ',') {
        this.index = mark;
        return;
      }
      this.nextNonSpace();
      this.declare(pipe, v);
      if (context !== 'range' || pipe.decl.length >= 2) this.errorf(`too many declarations in ${context}`);
      const after = this.peekNonSpace().kind;
      if (after !== 'variable' && after !== 'rightDelim' && after !== 'rightParen') this.errorf('range can only initialize variables');
    }
  }

  private declare(pipe: PipeNode, v: Token): void {
    pipe.decl.push({ type: 'variable', pos: v.pos, ident: [v.val] });
    this.vars.push(v.val);
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      if (NON_EXECUTABLE.has(c.args[0].type)) this.errorf(`non executable command in pipeline stage ${i + 2}`);
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.kind === 'space') continue;
      if (t.kind === 'rightDelim' || t.kind === 'rightParen') this.backup();
      else if (t.kind !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): ArgNode | null {
    const node = this.term();
    if (!node || this.peek().kind !== 'field') return node;
    // Go positions the combined node at the first trailing field.
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().kind === 'field') fields.push(this.next().val.slice(1));
    switch (node.type) {
      case 'field':
      case 'variable':
        return { type: node.type, pos, ident: [...node.ident, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.errorf(`unexpected . after term ${goQuote(nodeString(node))}`);
    }
    return { type: 'chain', pos, node, field: fields };
  }

  private term(): ArgNode | null {
    const t = this.nextNonSpace();
    switch (t.kind) {
      case 'identifier':
        if (!this.funcs.has(t.val)) this.errorf(`function ${goQuote(t.val)} not defined`);
        return { type: 'identifier', pos: t.pos, name: t.val };
      case 'dot':
        return { type: 'dot', pos: t.pos };
      case 'nil':
        return { type: 'nil', pos: t.pos };
      case 'variable':
        return this.useVar(t);
      case 'field':
        return { type: 'field', pos: t.pos, ident: [t.val.slice(1)] };
      case 'bool':
        return { type: 'bool', pos: t.pos, value: t.val === 'true' };
      case 'charConstant':
      case 'complex':
      case 'number':
        return this.numberNode(t);
      case 'leftParen':
        return this.pipeline('parenthesized pipeline', 'rightParen');
      case 'string':
      case 'rawString':
        return { type: 'string', pos: t.pos, quoted: t.val, text: this.unquote(t.val) };
    }
    this.backup();
    return null;
  }

  private useVar(t: Token): VariableNode {
    if (!this.vars.includes(t.val)) this.errorf(`undefined variable ${goQuote(t.val)}`);
    return { type: 'variable', pos: t.pos, ident: [t.val] };
  }

  private numberNode(t: Token): NumberNode {
    const parsed = parseNumberLiteral(t);
    if (typeof parsed === 'string') this.errorf(parsed);
    return { type: 'number', pos: t.pos, text: t.val, ...parsed };
  }

  private unquote(text: string): string {
    const s = unquoteGo(text);
    if (s === null) this.errorf('invalid syntax');
    return s;
  }
}

function isTerminator(n: Node | Terminator): n is Terminator {
  return n.type === 'end' || n.type === 'else';
}

function isEmptyTree(n: Node): boolean {
  if (n.type === 'list') return n.nodes.every(isEmptyTree);
  return n.type === 'text' && n.text.trim() === '';
}

// ─── Literals ────────────────────────────────────────────────────────────────

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** Go's parse.NumberNode rules; returns the error message on failure. */
function parseNumberLiteral(t: Token): { value: number; isInt: boolean } | string {
  const text = t.val;
  if (t.kind === 'charConstant') return parseCharConstant(text);
  if (t.kind === 'complex' || text.endsWith('i')) return `complex constant ${text} is not supported`;
  const asInt = parseGoInt(text);
  if (asInt !== null) return { value: Number(asInt), isInt: true };
  const asFloat = parseGoFloat(text);
  if (asFloat === null) return `illegal number syntax: ${goQuote(text)}`;
  // A float-parsable literal that looks like an integer must be too big for int64.
  if (!/[.eEpP]/.test(text)) return `integer overflow: ${goQuote(text)}`;
  return { value: asFloat, isInt: Number.isInteger(asFloat) };
}

function parseCharConstant(text: string): { value: number; isInt: boolean } | string {
  const body = text.slice(1);
  let value: number;
  let rest: string;
  if (body[0] === '\\') {
    const e = readEscape(body, 0, "'");
    if (!e) return 'invalid syntax';
    value = e.value;
    rest = body.slice(e.next);
  } else {
    if (body[0] === "'") return 'invalid syntax';
    value = body.codePointAt(0) as number;
    rest = body.slice(value > 0xffff ? 2 : 1);
  }
  if (rest !== "'") return `malformed character constant: ${text}`;
  return { value, isInt: true };
}

/** Underscores may only separate digits (or follow a base prefix), as in Go. */
function underscoreOK(s: string): boolean {
  let i = s[0] === '+' || s[0] === '-' ? 1 : 0;
  let saw = '^';
  let hex = false;
  if (s.length - i >= 2 && s[i] === '0' && 'bBoOxX'.includes(s[i + 1])) {
    hex = 'xX'.includes(s[i + 1]);
    i += 2;
    saw = '0';
  }
  for (; i < s.length; i++) {
    const c = s[i];
    if (isDigitChar(c) || (hex && /[a-fA-F]/.test(c))) saw = '0';
    else if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
    } else {
      if (saw === '_') return false;
      saw = '!';
    }
  }
  return saw !== '_';
}

function parseGoInt(text: string): bigint | null {
  if (!underscoreOK(text)) return null;
  const m = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]*)|([1-9][0-9]*))$/.exec(text.replace(/_/g, ''));
  if (!m) return null;
  let v: bigint;
  if (m[2] !== undefined) v = BigInt(`0x${m[2]}`);
  else if (m[3] !== undefined) v = BigInt(`0o${m[3]}`);
  else if (m[4] !== undefined) v = BigInt(`0b${m[4]}`);
  else if (m[5] !== undefined) v = BigInt(`0o${m[5] || '0'}`);
  else v = BigInt(m[6]);
  if (m[1] === '-') v = -v;
  return v > INT64_MAX || v < INT64_MIN ? null : v;
}

function parseGoFloat(text: string): number | null {
  if (!underscoreOK(text)) return null;
  const s = text.replace(/_/g, '');
  let v: number | null = null;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) v = Number(s);
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(s);
  if (hex && (hex[2] + (hex[3] ?? '')).length > 0) {
    const frac = hex[3] ?? '';
    const mantissa = parseInt(hex[2] + frac || '0', 16) / 16 ** frac.length;
    v = (hex[1] === '-' ? -1 : 1) * mantissa * 2 ** Number(hex[4]);
  }
  return v !== null && Number.isFinite(v) ? v : null;
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };

interface Escape {
  value: number;
  /** \x and octal escapes denote raw bytes in Go strings. */
  isByte: boolean;
  next: number;
}

/** One backslash escape of a Go string or rune literal starting at s[i]. */
function readEscape(s: string, i: number, quote: string): Escape | null {
  const c = s[i + 1];
  if (c === undefined) return null;
  if (c in SIMPLE_ESCAPES) return { value: SIMPLE_ESCAPES[c], isByte: false, next: i + 2 };
  if (c === quote) return { value: quote.charCodeAt(0), isByte: false, next: i + 2 };
  const hexLen = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
  if (hexLen > 0) {
    const digits = s.slice(i + 2, i + 2 + hexLen);
    if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(digits)) return null;
    const value = parseInt(digits, 16);
    if (c !== 'x' && (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff))) return null;
    return { value, isByte: c === 'x', next: i + 2 + hexLen };
  }
  const octal = s.slice(i + 1, i + 4);
  if (/^[0-7]{3}$/.test(octal) && parseInt(octal, 8) <= 255) return { value: parseInt(octal, 8), isByte: true, next: i + 4 };
  return null;
}

/** strconv.Unquote for "..." and `...` literals; null on a syntax error. */
function unquoteGo(text: string): string | null {
  if (text[0] === '`') return text.slice(1, -1).replace(/\r/g, '');
  const body = text.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; ) {
    if (body[i] === '\\') {
      const e = readEscape(body, i, '"');
      if (!e) return null;
      if (e.isByte) bytes.push(e.value);
      else pushUtf8(bytes, e.value);
      i = e.next;
      continue;
    }
    const cp = body.codePointAt(i) as number;
    pushUtf8(bytes, cp);
    i += cp > 0xffff ? 2 : 1;
  }
  return Buffer.from(bytes).toString('utf8');
}

function pushUtf8(bytes: number[], cp: number): void {
  bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
}

// ─── Executor ────────────────────────────────────────────────────────────────

/** Marks "no value piped in" (Go's missingVal), distinct from every data value. */
const NO_FINAL: unique symbol = Symbol('no final argument');
type Final = unknown;

const MAX_TEMPLATE_DEPTH = 1000;

class LoopSignal {
  constructor(readonly kind: 'break' | 'continue') {}
}
const BREAK = new LoopSignal('break');
const CONTINUE = new LoopSignal('continue');

interface Variable {
  name: string;
  value: unknown;
}

class Executor {
  private out = '';
  private vars: Variable[] = [];
  private node: AnyNode | null = null;
  private name = '';
  private depth = 0;

  constructor(
    private readonly src: string,
    private readonly templates: Templates,
    private readonly funcs: FuncTable,
  ) {}

  execute(data: unknown): string {
    this.vars = [{ name: '$', value: data }];
    const root = this.templates.get('');
    if (root) this.walk(data, root);
    return this.out;
  }

  private at(node: AnyNode): void {
    this.node = node;
  }

  private errorf(message: string): never {
    if (!this.node) throw new TemplateError(`template: ${this.name}: ${message}`);
    const where = errorLocation(this.src, this.node.pos);
    throw new TemplateError(`template: ${where}: executing ${goQuote(this.name)} at <${nodeString(this.node)}>: ${message}`);
  }

  // Walking the tree.

  private walk(dot: unknown, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'action': {
        const value = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, value);
        return;
      }
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'if':
      case 'with':
        return this.walkIfOrWith(dot, node);
      case 'list':
        for (const child of node.nodes) this.walk(dot, child);
        return;
      case 'range':
        return this.walkRange(dot, node);
      case 'template':
        return this.walkTemplate(dot, node);
      case 'text':
        this.out += node.text;
        return;
    }
  }

  private printValue(node: ActionNode, value: unknown): void {
    this.at(node);
    if (typeof value === 'function') this.errorf(`can't print ${nodeString(node)} of type func`);
    this.out += value === undefined ? '<no value>' : formatValue(value);
  }

  private walkIfOrWith(dot: unknown, node: BranchNode): void {
    const mark = this.vars.length;
    try {
      const value = this.evalPipeline(dot, node.pipe);
      if (isTrue(value)) this.walk(node.type === 'with' ? value : dot, node.list);
      else if (node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: unknown, node: BranchNode): void {
    this.at(node);
    const outerMark = this.vars.length;
    try {
      const items = this.rangeItems(this.evalPipeline(dot, node.pipe), node.pipe);
      if (items.length === 0) {
        if (node.elseList) this.walk(dot, node.elseList);
        return;
      }
      const mark = this.vars.length;
      for (const [index, elem] of items) {
        if (!this.rangeIteration(node, mark, index, elem)) break;
      }
    } finally {
      this.vars.length = outerMark;
    }
  }

  /** Runs one iteration; false when the body hit {{break}}. */
  private rangeIteration(node: BranchNode, mark: number, index: unknown, elem: unknown): boolean {
    this.setRangeVars(node.pipe, index, elem);
    try {
      this.walk(elem, node.list);
      return true;
    } catch (e) {
      if (e === CONTINUE) return true;
      if (e === BREAK) return false;
      throw e;
    } finally {
      this.vars.length = mark;
    }
  }

  private setRangeVars(pipe: PipeNode, index: unknown, elem: unknown): void {
    const decl = pipe.decl;
    if (decl.length === 0) return;
    if (pipe.isAssign) {
      this.setVar(decl[0].ident[0], decl.length > 1 ? index : elem);
      if (decl.length > 1) this.setVar(decl[1].ident[0], elem);
      return;
    }
    // Declared variables sit on top of the stack: the element last, the index before it.
    this.vars[this.vars.length - 1].value = elem;
    if (decl.length > 1) this.vars[this.vars.length - 2].value = index;
  }

  private rangeItems(value: unknown, pipe: PipeNode): Array<[unknown, unknown]> {
    if (value === null || value === undefined) return [];
    const list = listElements(value);
    if (list) return list.map((e, i) => [i, e]);
    if (isGoMap(value)) return sortedEntries(value);
    if (isIntegral(value)) {
      if (pipe.decl.length > 1) this.errorf(`can't use ${formatValue(value)} to iterate over more than one variable`);
      return Array.from({ length: Math.max(0, Number(value)) }, (_, i) => [i, i]);
    }
    this.errorf(`range can't iterate over ${formatValue(value)}`);
  }

  private walkTemplate(dot: unknown, node: TemplateNode): void {
    this.at(node);
    const tree = this.templates.get(node.name);
    if (!tree) this.errorf(`template ${goQuote(node.name)} not defined`);
    if (this.depth >= MAX_TEMPLATE_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
    const newDot = this.evalPipeline(dot, node.pipe);
    const saved = { vars: this.vars, name: this.name };
    // No dynamic scoping: the invoked template sees only $.
    this.vars = [{ name: '$', value: newDot }];
    this.name = node.name;
    this.depth++;
    try {
      this.walk(newDot, tree);
    } finally {
      this.vars = saved.vars;
      this.name = saved.name;
      this.depth--;
    }
  }

  // Variables.

  private setVar(name: string, value: unknown): void {
    const v = this.findVar(name);
    if (!v) this.errorf(`undefined variable: ${name}`);
    v.value = value;
  }

  private varValue(name: string): unknown {
    const v = this.findVar(name);
    if (!v) this.errorf(`undefined variable: ${name}`);
    return v.value;
  }

  private findVar(name: string): Variable | undefined {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i];
    return undefined;
  }

  // Evaluation.

  private evalPipeline(dot: unknown, pipe: PipeNode | null): unknown {
    if (!pipe) return undefined;
    this.at(pipe);
    let value: unknown = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0], value);
      else this.vars.push({ name: v.ident[0], value });
    }
    return value;
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0];
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.errorf('nil is not a command');
      case 'number':
        return first.value;
      case 'string':
        return first.text;
    }
  }

  private notAFunction(args: readonly ArgNode[] | null, final: Final): void {
    if (args && (args.length > 1 || final !== NO_FINAL)) this.errorf(`can't give argument to non-function ${nodeString(args[0])}`);
  }

  private evalFieldNode(dot: unknown, field: FieldNode, args: ArgNode[] | null, final: Final): unknown {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: unknown, chain: ChainNode, args: ArgNode[] | null, final: Final, invokeLast = true): unknown {
    this.at(chain);
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const receiver = this.evalArg(dot, 'value', chain.node);
    return this.evalFieldChain(dot, receiver, chain, chain.field, args, final, invokeLast);
  }

  private evalVariableNode(dot: unknown, v: VariableNode, args: ArgNode[] | null, final: Final, invokeLast = true): unknown {
    this.at(v);
    const value = this.varValue(v.ident[0]);
    if (v.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final, invokeLast);
  }

  private evalFieldChain(
    dot: unknown,
    receiver: unknown,
    node: AnyNode,
    ident: readonly string[],
    args: ArgNode[] | null,
    final: Final,
    invokeLast = true,
  ): unknown {
    let value = receiver;
    for (let i = 0; i < ident.length - 1; i++) value = this.evalField(dot, ident[i], node, null, NO_FINAL, value, true);
    return this.evalField(dot, ident[ident.length - 1], node, args, final, value, invokeLast);
  }

  private evalField(dot: unknown, name: string, node: AnyNode, args: ArgNode[] | null, final: Final, receiver: unknown, invoke: boolean): unknown {
    if (receiver === undefined) return undefined;
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = (args !== null && args.length > 1) || final !== NO_FINAL;
    const member = lookupMember(receiver, name);
    switch (member.kind) {
      case 'method':
        return invoke ? this.evalMethod(dot, member.fn, name, node, args, final) : member.fn;
      case 'field':
        if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
        return member.value;
      case 'mapEntry':
        if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
        return member.value;
      case 'unexported':
        return this.errorf(`${name} is an unexported field of struct type ${goTypeName(receiver)}`);
      case 'none':
        return this.errorf(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
    }
  }

  private evalMethod(dot: unknown, fn: JsFunction, name: string, node: AnyNode, args: ArgNode[] | null, final: Final): unknown {
    const argv = (args ?? []).slice(1).map((a) => this.evalArg(dot, 'any', a));
    if (final !== NO_FINAL) argv.push(this.validateType(final, 'any'));
    try {
      return fn(...argv);
    } catch (e) {
      this.at(node);
      this.errorf(`error calling ${name}: ${errorMessage(e)}`);
    }
  }

  private evalFunction(dot: unknown, node: IdentifierNode, cmd: AnyNode, args: ArgNode[] | null, final: Final): unknown {
    this.at(node);
    const fn = this.funcs.get(node.name);
    if (!fn) this.errorf(`${goQuote(node.name)} is not a defined function`);
    const argNodes = args ? args.slice(1) : [];
    this.checkArgCount(fn, node.name, argNodes.length, final !== NO_FINAL);
    switch (node.name) {
      case 'and':
      case 'or':
        return this.evalAndOr(dot, node.name, argNodes, final);
      case 'call':
        return this.evalCallBuiltin(dot, cmd, argNodes, final);
    }
    const argv = argNodes.map((a, i) => this.evalArg(dot, i < fn.params.length ? fn.params[i] : (fn.variadic as ParamType), a));
    if (final !== NO_FINAL) argv.push(this.validateType(final, finalParamType(fn, argv.length + 1)));
    try {
      return (fn.fn as JsFunction)(...argv);
    } catch (e) {
      this.at(cmd);
      this.errorf(`error calling ${node.name}: ${errorMessage(e)}`);
    }
  }

  private checkArgCount(fn: Builtin, name: string, given: number, hasFinal: boolean): void {
    const numIn = given + (hasFinal ? 1 : 0);
    const fixed = fn.params.length;
    if (fn.variadic) {
      if (numIn < fixed) this.errorf(`wrong number of args for ${name}: want at least ${fixed} got ${given}`);
    } else if (numIn !== fixed) {
      this.errorf(`wrong number of args for ${name}: want ${fixed} got ${numIn}`);
    }
  }

  /** and/or short-circuit and return the deciding operand itself. */
  private evalAndOr(dot: unknown, name: 'and' | 'or', argNodes: ArgNode[], final: Final): unknown {
    let value: unknown;
    for (const a of argNodes) {
      value = this.evalArg(dot, 'value', a);
      if (isTrue(value) === (name === 'or')) return value;
    }
    return final === NO_FINAL ? value : final;
  }

  private evalCallBuiltin(dot: unknown, cmd: AnyNode, argNodes: ArgNode[], final: Final): unknown {
    const [calleeNode, ...rest] = argNodes;
    const callee = calleeNode ? this.evalCallee(dot, calleeNode) : final;
    const argv = rest.map((a) => this.evalArg(dot, 'value', a));
    if (calleeNode && final !== NO_FINAL) argv.push(final);
    try {
      return callFunction(calleeNode ? nodeString(calleeNode) : '', callee, argv);
    } catch (e) {
      this.at(cmd);
      this.errorf(`error calling call: ${errorMessage(e)}`);
    }
  }

  /** The first argument of `call`: a function-valued field is fetched, not invoked. */
  private evalCallee(dot: unknown, n: ArgNode): unknown {
    this.at(n);
    switch (n.type) {
      case 'field':
        return this.evalFieldChain(dot, dot, n, n.ident, null, NO_FINAL, false);
      case 'chain':
        return this.evalChainNode(dot, n, null, NO_FINAL, false);
      case 'variable':
        return this.evalVariableNode(dot, n, null, NO_FINAL, false);
      default:
        return this.evalArg(dot, 'value', n);
    }
  }

  private evalArg(dot: unknown, type: ParamType, n: ArgNode): unknown {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, type);
      case 'nil':
        if (type === 'value') return undefined;
        if (type === 'any') return null;
        return this.errorf(`cannot assign nil to ${type}`);
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], NO_FINAL), type);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, null, NO_FINAL), type);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), type);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, null, NO_FINAL), type);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, null, NO_FINAL), type);
    }
    return this.evalLiteral(type, n);
  }

  private evalLiteral(type: ParamType, n: BoolNode | NumberNode | StringNode): unknown {
    if (type === 'string') {
      if (n.type !== 'string') this.errorf(`expected string; found ${nodeString(n)}`);
      return n.text;
    }
    if (type === 'int') {
      if (n.type !== 'number' || !n.isInt) this.errorf(`expected integer; found ${nodeString(n)}`);
      return n.value;
    }
    return n.type === 'string' ? n.text : n.value;
  }

  /** Go's validateType: converts/rejects a computed value for a parameter type. */
  private validateType(value: unknown, type: ParamType): unknown {
    switch (type) {
      case 'value':
        return value;
      case 'any':
        return value === undefined ? null : value;
      case 'string':
        if (value === undefined || value === null) this.errorf('invalid value; expected string');
        if (typeof value !== 'string') this.errorf(`wrong type for value; expected string; got ${goTypeName(value)}`);
        return value;
      case 'int':
        if (value === undefined || value === null) this.errorf('invalid value; expected int');
        if (!isIntegral(value)) this.errorf(`wrong type for value; expected int; got ${goTypeName(value)}`);
        return Number(value);
    }
  }
}

/** `template: :LINE:COL` where COL is a byte offset within the line, as Go reports it. */
function errorLocation(src: string, pos: number): string {
  const before = src.slice(0, pos);
  const lineStart = before.lastIndexOf('\n') + 1;
  const line = before.split('\n').length;
  return `:${line}:${Buffer.byteLength(before.slice(lineStart))}`;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ─── Member lookup (Go's field/method/map-key resolution) ────────────────────

type JsFunction = (...args: unknown[]) => unknown;

type Member =
  | { kind: 'method'; fn: JsFunction }
  | { kind: 'field'; value: unknown }
  | { kind: 'mapEntry'; value: unknown }
  | { kind: 'unexported' }
  | { kind: 'none' };

function lookupMember(receiver: unknown, name: string): Member {
  if (isGoMap(receiver)) {
    const value: unknown = receiver instanceof Map ? receiver.get(name) : Object.hasOwn(receiver, name) ? receiver[name] : undefined;
    return typeof value === 'function' ? { kind: 'method', fn: value.bind(receiver) as JsFunction } : { kind: 'mapEntry', value };
  }
  if (typeof receiver !== 'object' || receiver === null || listElements(receiver)) return { kind: 'none' };
  if (!hasStructMember(receiver, name)) return { kind: 'none' };
  if (!isExportedName(name)) return { kind: 'unexported' };
  const value = (receiver as Record<string, unknown>)[name];
  return typeof value === 'function' ? { kind: 'method', fn: value.bind(receiver) as JsFunction } : { kind: 'field', value };
}

/** Own or inherited (class) members, excluding what every object inherits. */
function hasStructMember(obj: object, name: string): boolean {
  for (let o: object | null = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    if (Object.hasOwn(o, name)) return true;
  }
  return false;
}

function isExportedName(name: string): boolean {
  const first = String.fromCodePoint(name.codePointAt(0) as number);
  return /\p{Lu}/u.test(first);
}

// ─── Go value helpers ────────────────────────────────────────────────────────

type GoMap = Map<unknown, unknown> | Record<string, unknown>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function isGoMap(v: unknown): v is GoMap {
  return v instanceof Map || isPlainObject(v);
}

/** Elements of an array or typed array (Go slices); null for anything else. */
function listElements(v: unknown): unknown[] | null {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<unknown>);
  return null;
}

function isIntegral(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

/** Integral numbers within int64 range stand for Go ints; everything else for float64. */
function isGoInt(n: number): boolean {
  return Number.isInteger(n) && Math.abs(n) < 2 ** 63;
}

function isNumeric(v: unknown): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

function mapSize(m: GoMap): number {
  return m instanceof Map ? m.size : Object.keys(m).length;
}

/** Map entries in Go's fmtsort order (numbers numerically, strings lexically). */
function sortedEntries(m: GoMap): Array<[unknown, unknown]> {
  const entries: Array<[unknown, unknown]> = m instanceof Map ? [...m.entries()] : Object.entries(m);
  return entries.sort(([a], [b]) => compareKeys(a, b));
}

function compareKeys(a: unknown, b: unknown): number {
  const rank = (v: unknown): number => (typeof v === 'boolean' ? 0 : isNumeric(v) ? 1 : typeof v === 'string' ? 2 : 3);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (typeof a === 'boolean' || isNumeric(a) || typeof a === 'string') {
    const x = a as string | number | bigint | boolean;
    const y = b as string | number | bigint | boolean;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return 0;
}

/** Go's truth: false, 0, nil and empty strings, slices and maps are false. */
function isTrue(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      return v !== 0;
    case 'bigint':
      return v !== 0n;
    case 'string':
      return v.length > 0;
  }
  const list = listElements(v);
  if (list) return list.length > 0;
  if (isGoMap(v)) return mapSize(v) > 0;
  return true;
}

/** The Go type name a value stands for, for %T and error messages. */
function goTypeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return isGoInt(v) ? 'int' : 'float64';
    case 'bigint':
      return 'int64';
    case 'function':
      return 'func()';
    case 'symbol':
      return 'string';
  }
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Uint8Array) return '[]uint8';
  if (isGoMap(v)) return 'map[string]interface {}';
  if (v instanceof Date) return 'time.Time';
  if (v instanceof Error) return '*errors.errorString';
  const ctor = (v as { constructor?: { name?: string } }).constructor;
  return ctor?.name ? ctor.name : 'struct {}';
}

// ─── Builtin functions ───────────────────────────────────────────────────────

/**
 * Parameter kinds, mirroring Go's reflection on function signatures: 'value' is a
 * reflect.Value (a missing value stays missing), 'any' is interface{} (missing → nil),
 * 'string' and 'int' are checked like Go's typed parameters.
 */
type ParamType = 'value' | 'any' | 'string' | 'int';

interface Builtin {
  params: ParamType[];
  variadic?: ParamType;
  /** Throws an Error to report Go's error result ("error calling NAME: ..."). */
  fn: (...args: never[]) => unknown;
}

type FuncTable = ReadonlyMap<string, Builtin>;

function finalParamType(fn: Builtin, numIn: number): ParamType {
  if (!fn.variadic) return fn.params[fn.params.length - 1];
  return numIn - 1 < fn.params.length ? fn.params[numIn - 1] : fn.variadic;
}

const unreachable = (): never => {
  throw new Error('handled by the executor');
};

function goBuiltins(): Record<string, Builtin> {
  return {
    and: { params: ['value'], variadic: 'value', fn: unreachable },
    or: { params: ['value'], variadic: 'value', fn: unreachable },
    call: { params: ['value'], variadic: 'value', fn: unreachable },
    not: { params: ['value'], fn: (v: unknown) => !isTrue(v) },
    len: { params: ['value'], fn: goLen },
    index: { params: ['value'], variadic: 'value', fn: goIndex },
    slice: { params: ['value'], variadic: 'value', fn: goSlice },
    print: { params: [], variadic: 'any', fn: sprint },
    printf: { params: ['string'], variadic: 'any', fn: sprintf },
    println: { params: [], variadic: 'any', fn: sprintln },
    html: { params: [], variadic: 'any', fn: (...args: unknown[]) => htmlEscape(evalArgs(args)) },
    js: { params: [], variadic: 'any', fn: (...args: unknown[]) => jsEscape(evalArgs(args)) },
    urlquery: { params: [], variadic: 'any', fn: (...args: unknown[]) => urlQueryEscape(evalArgs(args)) },
    eq: { params: ['value'], variadic: 'value', fn: goEq },
    ne: { params: ['value', 'value'], fn: (a: unknown, b: unknown) => !goEq(a, b) },
    lt: { params: ['value', 'value'], fn: goLt },
    le: { params: ['value', 'value'], fn: (a: unknown, b: unknown) => goLt(a, b) || goEq(a, b) },
    gt: { params: ['value', 'value'], fn: (a: unknown, b: unknown) => !(goLt(a, b) || goEq(a, b)) },
    ge: { params: ['value', 'value'], fn: (a: unknown, b: unknown) => !goLt(a, b) },
  };
}

/** docker/cli templates.basicFunctions. */
function dockerFunctions(): Record<string, Builtin> {
  return {
    json: { params: ['any'], fn: formatJSON },
    split: { params: ['string', 'string'], fn: (s: string, sep: string) => (sep === '' ? Array.from(s) : s.split(sep)) },
    join: { params: ['any', 'string'], fn: joinElements },
    title: { params: ['string'], fn: goTitle },
    lower: { params: ['string'], fn: (s: string) => mapRunes(s, (ch) => ch.toLowerCase()) },
    upper: { params: ['string'], fn: (s: string) => mapRunes(s, (ch) => ch.toUpperCase()) },
    pad: { params: ['string', 'int', 'int'], fn: padWithSpace },
    truncate: { params: ['string', 'int'], fn: truncateBytes },
  };
}

/** docker/cli templates.HeaderFunctions: keep column titles intact. */
function dockerHeaderFunctions(): Record<string, Builtin> {
  const same = (v: string): string => v;
  return {
    json: { params: ['string'], fn: same },
    split: { params: ['string', 'string'], fn: same },
    join: { params: ['string', 'string'], fn: same },
    title: { params: ['string'], fn: same },
    lower: { params: ['string'], fn: same },
    upper: { params: ['string'], fn: same },
    truncate: { params: ['string', 'int'], fn: same },
  };
}

let defaultTable: FuncTable | undefined;
let headerTable: FuncTable | undefined;

function defaultFuncs(): FuncTable {
  defaultTable ??= new Map(Object.entries({ ...goBuiltins(), ...dockerFunctions() }));
  return defaultTable;
}

function headerFuncs(): FuncTable {
  headerTable ??= new Map(Object.entries({ ...goBuiltins(), ...dockerFunctions(), ...dockerHeaderFunctions() }));
  return headerTable;
}

function callFunction(name: string, fn: unknown, args: unknown[]): unknown {
  if (fn === undefined || fn === null) throw new Error('call of nil');
  if (typeof fn !== 'function') throw new Error(`non-function ${name} of type ${goTypeName(fn)}`);
  return (fn as JsFunction)(...args);
}

function goLen(v: unknown): number {
  if (v === undefined) throw new Error('reflect: call of reflect.Value.Type on zero Value');
  if (v === null) return 0; // a nil slice or map
  if (typeof v === 'string') return Buffer.byteLength(v);
  const list = listElements(v);
  if (list) return list.length;
  if (isGoMap(v)) return mapSize(v);
  throw new Error(`len of type ${goTypeName(v)}`);
}

function indexArg(index: unknown, cap: number): number {
  if (index === undefined || index === null) throw new Error('cannot index slice/array with nil');
  if (!isIntegral(index)) throw new Error(`cannot index slice/array with type ${goTypeName(index)}`);
  const x = Number(index);
  if (x < 0 || x > cap) throw new Error(`index out of range: ${x}`);
  return x;
}

function goIndex(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined) throw new Error('index of untyped nil');
  let current: unknown = item;
  for (const index of indexes) current = indexOnce(current, index);
  return current;
}

function indexOnce(item: unknown, index: unknown): unknown {
  if (item === undefined) throw new Error('index of nil pointer');
  // null is a nil map (a string key yields the zero value) or a nil slice.
  if (item === null) return typeof index === 'string' ? '' : indexList([], index);
  if (typeof item === 'string') return indexList(Buffer.from(item, 'utf8'), index, 'string');
  const list = listElements(item);
  if (list) return indexList(list, index);
  if (isGoMap(item)) return indexMap(item, index);
  throw new Error(`can't index item of type ${goTypeName(item)}`);
}

function indexList(list: ArrayLike<unknown>, index: unknown, kind = 'slice'): unknown {
  const x = indexArg(index, list.length);
  // Go's bound check admits x == len; reflect then panics.
  if (x === list.length) throw new Error(`reflect: ${kind} index out of range`);
  return list[x];
}

function indexMap(m: GoMap, key: unknown): unknown {
  if (m instanceof Map) return m.has(key) ? m.get(key) : zeroValueOf(m);
  if (key === undefined || key === null) throw new Error('value is nil; should be of type string');
  if (typeof key !== 'string') throw new Error(`value has type ${goTypeName(key)}; should be string`);
  return Object.hasOwn(m, key) ? m[key] : zeroValueOf(m);
}

/**
 * Go returns the zero value of the map's element type for a missing key. JS maps carry no
 * element type, so infer it from an existing value; an empty map is taken to hold strings,
 * as docker's label maps do (`{{index .Config.Labels "x"}}` prints an empty string).
 */
function zeroValueOf(m: GoMap): unknown {
  const first: unknown = m instanceof Map ? m.values().next().value : Object.values(m)[0];
  if (first === undefined || typeof first === 'string') return '';
  if (isNumeric(first)) return 0;
  if (typeof first === 'boolean') return false;
  return null;
}

function goSlice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string');
    const bytes = Buffer.from(item, 'utf8');
    const [from, to] = sliceBounds(indexes, bytes.length);
    return bytes.subarray(from, to).toString('utf8');
  }
  const list = item === null ? [] : listElements(item);
  if (!list) throw new Error(`can't slice item of type ${goTypeName(item)}`);
  const [from, to] = sliceBounds(indexes, list.length);
  return list.slice(from, to);
}

function sliceBounds(indexes: unknown[], length: number): [number, number] {
  const idx = [0, length, length];
  indexes.forEach((index, i) => {
    idx[i] = indexArg(index, length);
  });
  if (idx[0] > idx[1]) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1] > idx[2]) throw new Error(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  return [idx[0], idx[1]];
}

// Comparisons. JS numbers are one numeric kind here (Go would reject int vs float64).

type BasicKind = 'bool' | 'number' | 'string' | 'invalid';

function basicKind(v: unknown): BasicKind {
  if (typeof v === 'boolean') return 'bool';
  if (isNumeric(v)) return 'number';
  if (typeof v === 'string') return 'string';
  return 'invalid';
}

/** Go's reflect Kind family, used to decide what eq may compare. */
function kindOf(v: unknown): string {
  if (v === undefined || v === null) return 'invalid';
  if (listElements(v)) return 'slice';
  if (isGoMap(v)) return 'map';
  return typeof v;
}

function goEq(arg1: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const arg of rest) {
    const k2 = basicKind(arg);
    if (k1 !== k2) {
      if (arg1 !== undefined && arg1 !== null && arg !== undefined && arg !== null) {
        throw new Error(`incompatible types for comparison: ${goTypeName(arg1)} and ${goTypeName(arg)}`);
      }
    } else if (k1 !== 'invalid' ? arg1 == arg : nilAwareEqual(arg1, arg)) {
      return true;
    }
  }
  return false;
}

function nilAwareEqual(a: unknown, b: unknown): boolean {
  if (kindOf(a) !== kindOf(b) && kindOf(a) !== 'invalid' && kindOf(b) !== 'invalid') {
    throw new Error(`non-comparable types ${formatValue(a)}: ${goTypeName(a)}, ${goTypeName(b)}: ${formatValue(b)}`);
  }
  const aNil = a === undefined || a === null;
  const bNil = b === undefined || b === null;
  if (aNil || bNil) return aNil === bNil;
  if (kindOf(b) === 'slice' || kindOf(b) === 'map') throw new Error(`non-comparable type ${formatValue(b)}: ${goTypeName(b)}`);
  return a === b;
}

function goLt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === 'invalid' || k2 === 'invalid') throw new Error('invalid type for comparison');
  if (k1 !== k2) throw new Error(`incompatible types for comparison: ${goTypeName(a)} and ${goTypeName(b)}`);
  if (k1 === 'bool') throw new Error('invalid type for comparison');
  return (a as string | number | bigint) < (b as string | number | bigint);
}

// docker/cli functions.

function joinElements(elems: unknown, sep: string): string {
  if (elems === null || elems === undefined) return '';
  const list = listElements(elems);
  if (list) return list.map((e) => (typeof e === 'string' ? e : formatValue(e))).join(sep);
  if (isGoMap(elems)) {
    const values = sortedEntries(elems).map(([, v]) => formatValue(v));
    return values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(sep);
  }
  throw new Error(`expected slice, got ${goTypeName(elems)}`);
}

function padWithSpace(source: string, prefix: number, suffix: number): string {
  if (source === '') return source;
  if (prefix < 0 || suffix < 0) throw new Error('strings: negative Repeat count');
  return ' '.repeat(prefix) + source + ' '.repeat(suffix);
}

/** docker's truncate cuts UTF-8 bytes (Go's source[:length]), not runes. */
function truncateBytes(source: string, length: number): string {
  const bytes = Buffer.from(source, 'utf8');
  if (bytes.length < length) return source;
  if (length < 0) throw new Error(`runtime error: slice bounds out of range [:${length}]`);
  return bytes.subarray(0, length).toString('utf8');
}

/** strings.Title: upper-case the first letter of each word. */
function goTitle(s: string): string {
  let prev = 0x20;
  let out = '';
  for (const ch of s) {
    out += isWordSeparator(prev) ? mapRune(ch, (c) => c.toUpperCase()) : ch;
    prev = ch.codePointAt(0) as number;
  }
  return out;
}

function isWordSeparator(r: number): boolean {
  if (r <= 0x7f) return !/[0-9A-Za-z_]/.test(String.fromCharCode(r));
  const ch = String.fromCodePoint(r);
  if (/[\p{L}\p{Nd}]/u.test(ch)) return false;
  return /\s/u.test(ch);
}

/** Go maps case rune by rune; a JS mapping that expands a rune (ß → SS) leaves it alone. */
function mapRune(ch: string, map: (c: string) => string): string {
  const mapped = map(ch);
  if (ch === '\u0130' && mapped === 'i\u0307') return 'i'; // Go's simple lower-case of İ
  return Array.from(mapped).length === 1 ? mapped : ch;
}

function mapRunes(s: string, map: (c: string) => string): string {
  let out = '';
  for (const ch of s) out += mapRune(ch, map);
  return out;
}

// ─── fmt ─────────────────────────────────────────────────────────────────────

interface FmtFlags {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | null;
  prec: number | null;
}

const NO_FLAGS: FmtFlags = { minus: false, plus: false, sharp: false, space: false, zero: false, width: null, prec: null };

/** fmt.Sprint: spaces between operands when neither side is a string. */
function sprint(...args: unknown[]): string {
  let out = '';
  args.forEach((arg, i) => {
    if (i > 0 && typeof arg !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(arg);
  });
  return out;
}

function sprintln(...args: unknown[]): string {
  return `${args.map(formatValue).join(' ')}\n`;
}

/** The html/js/urlquery argument rule: one string as is, else Sprint with nils as `<no value>`. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(...args.map((a) => (a === undefined || a === null ? '<no value>' : a)));
}

interface FmtState {
  format: string;
  args: unknown[];
  argIndex: number;
  pos: number;
  out: string;
}

function sprintf(format: string, ...args: unknown[]): string {
  const s: FmtState = { format, args, argIndex: 0, pos: 0, out: '' };
  while (s.pos < format.length) formatDirective(s);
  if (s.argIndex < args.length) {
    const extra = args.slice(s.argIndex).map((a) => (a === undefined || a === null ? '<nil>' : `${goTypeName(a)}=${formatValue(a)}`));
    s.out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return s.out;
}

function formatDirective(s: FmtState): void {
  const pct = s.format.indexOf('%', s.pos);
  if (pct < 0) {
    s.out += s.format.slice(s.pos);
    s.pos = s.format.length;
    return;
  }
  s.out += s.format.slice(s.pos, pct);
  s.pos = pct + 1;
  const f: FmtFlags = { ...NO_FLAGS };
  readFlags(s, f);
  if (!readWidth(s, f)) s.out += '%!(BADWIDTH)';
  if (!readPrecision(s, f)) s.out += '%!(BADPREC)';
  if (s.pos >= s.format.length) {
    s.out += '%!(NOVERB)';
    return;
  }
  const verb = String.fromCodePoint(s.format.codePointAt(s.pos) as number);
  s.pos += verb.length;
  if (verb === '%') s.out += '%';
  else if (s.argIndex >= s.args.length) s.out += `%!${verb}(MISSING)`;
  else s.out += printArg(s.args[s.argIndex++], verb, f);
}

function readFlags(s: FmtState, f: FmtFlags): void {
  for (; s.pos < s.format.length; s.pos++) {
    switch (s.format[s.pos]) {
      case '#':
        f.sharp = true;
        break;
      case '0':
        f.zero = !f.minus;
        break;
      case '+':
        f.plus = true;
        break;
      case '-':
        f.minus = true;
        f.zero = false;
        break;
      case ' ':
        f.space = true;
        break;
      default:
        return;
    }
  }
}

function readDecimal(s: FmtState): number | null {
  const m = /^\d+/.exec(s.format.slice(s.pos));
  if (!m) return null;
  s.pos += m[0].length;
  return Number(m[0]);
}

function takeIntArg(s: FmtState): number | null {
  if (s.argIndex >= s.args.length) return null;
  const a = s.args[s.argIndex++];
  return isIntegral(a) ? Number(a) : null;
}

function readWidth(s: FmtState, f: FmtFlags): boolean {
  if (s.format[s.pos] !== '*') {
    f.width = readDecimal(s);
    return true;
  }
  s.pos++;
  const w = takeIntArg(s);
  if (w === null) return false;
  f.width = Math.abs(w);
  if (w < 0) {
    f.minus = true;
    f.zero = false;
  }
  return true;
}

function readPrecision(s: FmtState, f: FmtFlags): boolean {
  if (s.format[s.pos] !== '.') return true;
  s.pos++;
  if (s.format[s.pos] !== '*') {
    f.prec = readDecimal(s) ?? 0;
    return true;
  }
  s.pos++;
  const p = takeIntArg(s);
  if (p === null) return false;
  f.prec = p < 0 ? null : p;
  return true;
}

/** Formats one operand for a verb, like fmt's printArg (composites apply the verb per element). */
function printArg(arg: unknown, verb: string, f: FmtFlags): string {
  if (verb === 'T') return padText(goTypeName(arg), f);
  if (arg === undefined || arg === null) return verb === 'v' ? padText('<nil>', f) : badVerb(arg, verb, f);
  const stringer = stringerValue(arg);
  if (stringer !== null && 'vsxXq'.includes(verb)) return fmtString(stringer, verb, f);
  switch (typeof arg) {
    case 'boolean':
      return verb === 't' || verb === 'v' ? padText(String(arg), f) : badVerb(arg, verb, f);
    case 'bigint':
      return fmtInteger(arg, verb, f);
    case 'number':
      return isGoInt(arg) ? fmtInteger(arg, verb, f) : fmtFloat(arg, verb, f);
    case 'string':
      return fmtString(arg, verb, f);
    case 'object':
      return fmtComposite(arg, verb, f);
    default:
      return padText(String(arg), f);
  }
}

function badVerb(arg: unknown, verb: string, f: FmtFlags): string {
  const detail = arg === undefined || arg === null ? '<nil>' : `${goTypeName(arg)}=${printArg(arg, 'v', f)}`;
  return `%!${verb}(${detail})`;
}

/** Error, Stringer (a class's own toString) and time.Time values print as their string. */
function stringerValue(v: unknown): string | null {
  if (v instanceof Error) return v.message;
  if (v instanceof Date) return goTimeString(v);
  if (typeof v !== 'object' || v === null || isGoMap(v) || listElements(v)) return null;
  const toString = (v as { toString?: unknown }).toString;
  return typeof toString === 'function' && toString !== Object.prototype.toString ? String(v) : null;
}

function fmtComposite(obj: object, verb: string, f: FmtFlags): string {
  const list = listElements(obj);
  if (list) return `[${list.map((e) => printArg(e, verb, f)).join(' ')}]`;
  if (isGoMap(obj)) {
    const entries = sortedEntries(obj).map(([k, v]) => `${printArg(k, verb, f)}:${printArg(v, verb, f)}`);
    return `map[${entries.join(' ')}]`;
  }
  const fields = Object.entries(obj).map(([k, v]) => (f.plus ? `${k}:` : '') + printArg(v, verb, f));
  return `{${fields.join(' ')}}`;
}

function padText(s: string, f: FmtFlags, zeroAllowed = false): string {
  const width = f.width ?? 0;
  const n = Array.from(s).length;
  if (n >= width) return s;
  if (f.minus) return s + ' '.repeat(width - n);
  return (zeroAllowed && f.zero ? '0' : ' ').repeat(width - n) + s;
}

function fmtString(s: string, verb: string, f: FmtFlags): string {
  switch (verb) {
    case 'v':
    case 's':
      return padText(firstRunes(s, f.prec), f);
    case 'q': {
      const t = firstRunes(s, f.prec);
      return padText(f.sharp && canBackquote(t) ? `\`${t}\`` : goQuote(t, f.plus), f);
    }
    case 'x':
    case 'X':
      return padText(hexBytes(s, verb, f), f);
    default:
      return badVerb(s, verb, f);
  }
}

function hexBytes(s: string, verb: string, f: FmtFlags): string {
  let bytes = [...Buffer.from(s, 'utf8')];
  if (f.prec !== null) bytes = bytes.slice(0, f.prec);
  const prefix = f.sharp ? (verb === 'X' ? '0X' : '0x') : '';
  const parts = bytes.map((b) => b.toString(16).padStart(2, '0'));
  const hex = f.space ? parts.map((p) => prefix + p).join(' ') : prefix + parts.join('');
  return verb === 'X' ? hex.toUpperCase() : hex;
}

function fmtInteger(arg: number | bigint, verb: string, f: FmtFlags): string {
  const n = BigInt(arg);
  switch (verb) {
    case 'v':
    case 'd':
      return intWithBase(n, 10, f);
    case 'b':
      return intWithBase(n, 2, f);
    case 'o':
      return intWithBase(n, 8, f);
    case 'O':
      return intWithBase(n, 8, f, '0o');
    case 'x':
      return intWithBase(n, 16, f);
    case 'X':
      return intWithBase(n, 16, f).toUpperCase();
    case 'c':
      return padText(runeString(n), f);
    case 'q':
      return padText(goQuote(runeString(n), f.plus, "'"), f);
    case 'U':
      return padText(unicodeFormat(n, f.sharp), f);
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      return fmtFloat(Number(arg), verb, f);
    default:
      return badVerb(arg, verb, f);
  }
}

function intWithBase(n: bigint, base: number, f: FmtFlags, prefix = ''): string {
  const negative = n < 0n;
  let digits = (negative ? -n : n).toString(base);
  let minDigits = 0;
  if (f.prec !== null) {
    if (f.prec === 0 && n === 0n) return padText('', f);
    minDigits = f.prec;
  } else if (f.zero && !f.minus && f.width !== null) {
    // Zero padding works like a precision that leaves room for the sign.
    minDigits = f.width - (negative || f.plus || f.space ? 1 : 0);
  }
  digits = digits.padStart(minDigits, '0');
  if (f.sharp) {
    if (base === 8 && digits[0] !== '0') digits = `0${digits}`;
    else if (base === 16) digits = `0x${digits}`;
    else if (base === 2) digits = `0b${digits}`;
  }
  const sign = negative ? '-' : f.plus ? '+' : f.space ? ' ' : '';
  return padText(sign + prefix + digits, f);
}

function runeString(n: bigint): string {
  const r = Number(n);
  return r >= 0 && r <= 0x10ffff && !(r >= 0xd800 && r <= 0xdfff) ? String.fromCodePoint(r) : '\ufffd';
}

function unicodeFormat(n: bigint, sharp: boolean): string {
  const u = `U+${n.toString(16).toUpperCase().padStart(4, '0')}`;
  const ch = runeString(n);
  return sharp && isPrint(ch) ? `${u} '${ch}'` : u;
}

function fmtFloat(x: number, verb: string, f: FmtFlags): string {
  if (!'vgGeEfF'.includes(verb)) return badVerb(x, verb, f);
  let sign = x < 0 || Object.is(x, -0) ? '-' : '+';
  if (f.space && sign === '+' && !f.plus) sign = ' ';
  const noZero = { ...f, zero: false };
  if (Number.isNaN(x)) return padText(f.plus || f.space ? `${sign}NaN` : 'NaN', noZero);
  if (!Number.isFinite(x)) return padText(`${sign}Inf`, noZero);
  const body = floatBody(Math.abs(x), verb, f.prec);
  if (!f.plus && sign === '+') return padText(body, f, true);
  const width = f.width ?? 0;
  if (f.zero && !f.minus && width > body.length + 1) return sign + '0'.repeat(width - body.length - 1) + body;
  return padText(sign + body, f);
}

function floatBody(x: number, verb: string, prec: number | null): string {
  switch (verb) {
    case 'e':
    case 'E':
      return formatE(x, prec ?? 6, verb);
    case 'f':
    case 'F':
      return formatF(x, prec ?? 6);
    case 'G':
      return formatG(x, prec ?? -1, 'E');
    default:
      return formatG(x, prec ?? -1, 'e');
  }
}

interface Digits {
  /** Significant decimal digits. */
  digits: string;
  /** Decimal exponent of the first digit. */
  exp: number;
}

/** %g (and %v): shortest digits unless a precision is given; exponent form outside [-4, prec). */
function formatG(x: number, prec: number, e: string): string {
  const p = prec === 0 ? 1 : prec;
  const d = prec < 0 ? shortestDigits(x) : trimZeros(significantDigits(x, p));
  let eprec = prec < 0 ? 6 : p;
  if (prec >= 0 && eprec > d.digits.length && d.digits.length >= d.exp + 1) eprec = d.digits.length;
  if (d.exp < -4 || d.exp >= eprec) return exponentForm(d, e);
  return fixedForm(d);
}

function formatE(x: number, prec: number, e: string): string {
  return exponentForm(significantDigits(x, prec + 1), e);
}

function formatF(x: number, prec: number): string {
  const { int, scale } = exactDecimal(x);
  const digits = roundToScale(int, scale, prec).toString().padStart(prec + 1, '0');
  return prec > 0 ? `${digits.slice(0, -prec)}.${digits.slice(-prec)}` : digits;
}

function exponentForm(d: Digits, e: string): string {
  const mantissa = d.digits.length > 1 ? `${d.digits[0]}.${d.digits.slice(1)}` : d.digits;
  const exp = String(Math.abs(d.exp)).padStart(2, '0');
  return `${mantissa}${e}${d.exp < 0 ? '-' : '+'}${exp}`;
}

function fixedForm(d: Digits): string {
  const point = d.exp + 1;
  if (point <= 0) return `0.${'0'.repeat(-point)}${d.digits}`;
  if (point >= d.digits.length) return d.digits + '0'.repeat(point - d.digits.length);
  return `${d.digits.slice(0, point)}.${d.digits.slice(point)}`;
}

/** The shortest digits that round-trip, which JS and Go agree on. */
function shortestDigits(x: number): Digits {
  const [mantissa, exp] = x.toExponential().split('e');
  return { digits: mantissa.replace('.', ''), exp: Number(exp) };
}

function trimZeros(d: Digits): Digits {
  return { digits: d.digits.replace(/(?<=.)0+$/, ''), exp: d.exp };
}

/** x rounded to n significant digits, half to even on the exact binary value (as Go does). */
function significantDigits(x: number, n: number): Digits {
  if (x === 0) return { digits: '0'.repeat(n), exp: 0 };
  const { int, scale } = exactDecimal(x);
  const length = int.toString().length;
  let exp = length - 1 - scale;
  let digits = roundToScale(int, scale, scale - (length - n)).toString();
  if (digits.length > n) {
    digits = digits.slice(0, n);
    exp++;
  }
  return { digits, exp };
}

/** The exact value of a finite double x ≥ 0 as int / 10^scale. */
function exactDecimal(x: number): { int: bigint; scale: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let exp = -1074;
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    exp = biased - 1075;
  }
  if (exp >= 0) return { int: mantissa << BigInt(exp), scale: 0 };
  return { int: mantissa * 5n ** BigInt(-exp), scale: -exp };
}

function roundToScale(int: bigint, scale: number, newScale: number): bigint {
  if (newScale >= scale) return int * 10n ** BigInt(newScale - scale);
  const divisor = 10n ** BigInt(scale - newScale);
  let q = int / divisor;
  const twice = (int % divisor) * 2n;
  if (twice > divisor || (twice === divisor && q % 2n === 1n)) q++;
  return q;
}

// ─── Text helpers ────────────────────────────────────────────────────────────

function firstRunes(s: string, n: number | null): string {
  if (n === null) return s;
  return Array.from(s).slice(0, n).join('');
}

/** strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrint(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

const QUOTE_ESCAPES: Readonly<Record<string, string>> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/** strconv.Quote (or QuoteToASCII, or QuoteRune with quote "'"). */
function goQuote(s: string, asciiOnly = false, quote = '"'): string {
  let out = quote;
  for (const ch of s) out += quoteChar(ch, quote, asciiOnly);
  return out + quote;
}

function quoteChar(ch: string, quote: string, asciiOnly: boolean): string {
  if (ch === quote || ch === '\\') return `\\${ch}`;
  const r = ch.codePointAt(0) as number;
  if (isPrint(ch) && (!asciiOnly || r < 0x80)) return ch;
  if (QUOTE_ESCAPES[ch]) return QUOTE_ESCAPES[ch];
  if (r < 0x20 || r === 0x7f) return `\\x${r.toString(16).padStart(2, '0')}`;
  const valid = r >= 0xd800 && r <= 0xdfff ? 0xfffd : r;
  if (valid < 0x10000) return `\\u${valid.toString(16).padStart(4, '0')}`;
  return `\\U${valid.toString(16).padStart(8, '0')}`;
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const r = ch.codePointAt(0) as number;
    if (ch === '`' || ch === '\ufeff' || (r < 0x20 && ch !== '\t') || r === 0x7f) return false;
  }
  return true;
}

/** Go's %#U-style rune description used by lexer errors: U+0041 'A'. */
function formatRuneU(r: number): string {
  return unicodeFormat(BigInt(r), true);
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '\0': '\ufffd', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' };

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => HTML_ESCAPES[c]);
}

const JS_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  "'": "\\'",
  '"': '\\"',
  '<': '\\u003C',
  '>': '\\u003E',
  '&': '\\u0026',
  '=': '\\u003D',
};

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const r = ch.codePointAt(0) as number;
    if (JS_ESCAPES[ch]) out += JS_ESCAPES[ch];
    else if (r < 0x20) out += `\\u00${r.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (r >= 0x80 && !isPrint(ch)) out += `\\u${r.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

/** url.QueryEscape. */
function urlQueryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** time.Time.String() for a JS Date, in UTC. */
function goTimeString(d: Date): string {
  const iso = d.toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`;
}

/** time.Time's JSON form (RFC 3339 with trailing fractional zeros dropped). */
function goRFC3339(d: Date): string {
  const iso = d.toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

// ─── JSON (docker's json function: encoding/json with HTML escaping off) ────

function formatJSON(v: unknown): string {
  return encodeJSON(v, new Set());
}

function encodeJSON(v: unknown, seen: Set<object>): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'object') return encodeJSONObject(v, seen);
  switch (typeof v) {
    case 'string':
      return jsonString(v);
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`json: unsupported value: ${formatValue(v)}`);
      return String(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return String(v);
    case 'function':
      throw new Error('json: unsupported type: func()');
    default:
      return 'null';
  }
}

function encodeJSONObject(v: object, seen: Set<object>): string {
  if (v instanceof Date) return jsonString(goRFC3339(v));
  if (v instanceof Uint8Array) return jsonString(Buffer.from(v).toString('base64'));
  const toJSON = (v as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return encodeJSON(toJSON.call(v), seen);
  if (seen.has(v)) throw new Error(`json: unsupported value: encountered a cycle via ${goTypeName(v)}`);
  seen.add(v);
  try {
    const list = listElements(v);
    if (list) return `[${list.map((e) => encodeJSON(e, seen)).join(',')}]`;
    // Go sorts map keys; struct-like objects keep their field (insertion) order.
    const entries = v instanceof Map ? [...v.entries()].map(([k, x]) => [String(k), x] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : Object.entries(v);
    const members = entries.filter(([, x]) => x !== undefined && typeof x !== 'function' && typeof x !== 'symbol');
    return `{${members.map(([k, x]) => `${jsonString(k)}:${encodeJSON(x, seen)}`).join(',')}}`;
  } finally {
    seen.delete(v);
  }
}

const JSON_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function jsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const r = ch.codePointAt(0) as number;
    if (JSON_ESCAPES[ch]) out += JSON_ESCAPES[ch];
    else if (r < 0x20) out += `\\u00${r.toString(16).padStart(2, '0')}`;
    else if (r >= 0xd800 && r <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return `${out}"`;
}
