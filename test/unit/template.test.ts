import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TemplateError,
  compileTemplate,
  formatValue,
  preprocessFormat,
  renderTemplate,
  templateStringFromFormat,
} from '../../src/cli/format/template';

/** A struct-like row, as the ps/images formatters pass them. */
class Row {
  hidden = 'secret';
  constructor(private readonly labels: Record<string, string>) {}
  ID(): string {
    return 'abc123';
  }
  Label(name: string): string {
    return this.labels[name] ?? '';
  }
  get Status(): string {
    return 'Up 2 hours';
  }
  Boom(): string {
    throw new Error('kaboom');
  }
}

const container = {
  ID: 'f00dfeed',
  Names: 'web',
  Name: 'nginx-proxy',
  State: { Status: 'running', Pid: 42, Running: true },
  Mounts: [{ Source: '/a' }, { Source: '/b' }],
  Args: ['-g', 'daemon off;'],
  Config: { Labels: { 'a.b': 'yes', 'com.example': 'x' } },
  Ports: null,
  Count: 3,
  Ratio: 0.5,
  List: [1, 2, 3, 4, 5],
  Empty: [],
  Label: (name: string) => `label:${name}`,
};

function render(src: string, data: unknown = container): string {
  return renderTemplate(src, data);
}

/** The TemplateError message a failing render throws. */
function renderError(src: string, data: unknown = container): string {
  try {
    renderTemplate(src, data);
  } catch (err) {
    if (err instanceof TemplateError) return err.message;
    throw err;
  }
  throw new Error(`expected ${src} to fail`);
}

test('text passes through; a literal backslash-t stays backslash-t', () => {
  assert.equal(render('hello, world'), 'hello, world');
  assert.equal(render('a\\tb'), 'a\\tb');
  assert.equal(render(''), '');
});

test('realistic docker formats', () => {
  assert.equal(render('{{.ID}}\t{{.Names}}'), 'f00dfeed\tweb');
  assert.equal(render('{{range .Mounts}}{{.Source}} {{end}}'), '/a /b ');
  assert.equal(render('{{join .Args ","}}'), '-g,daemon off;');
  assert.equal(render('{{.State.Status}}'), 'running');
  assert.equal(render('{{if eq .State.Status "running"}}up{{else}}down{{end}}'), 'up');
  assert.equal(render('{{if eq .State.Status "exited"}}up{{else}}down{{end}}'), 'down');
  assert.equal(render('{{upper .Name | printf "%.3s"}}'), 'NGI');
  assert.equal(render('{{index .Config.Labels "a.b"}}'), 'yes');
  assert.equal(render('{{.Label "x"}}'), 'label:x');
  assert.equal(render('{{.ID}}: {{.Label "com.example"}} {{.Status}}', new Row({ 'com.example': 'v' })), 'abc123: v Up 2 hours');
});

test('preprocessFormat expands escaped tabs and newlines like docker/cli', () => {
  assert.equal(preprocessFormat('{{.ID}}\\t{{.Names}}\\n'), '{{.ID}}\t{{.Names}}\n');
  assert.equal(preprocessFormat('a\\\\tb'), 'a\\\tb');
  assert.equal(render(preprocessFormat('{{.ID}}\\t{{.Names}}')), 'f00dfeed\tweb');
});

test('templateStringFromFormat follows Format.templateString', () => {
  assert.equal(templateStringFromFormat('table {{.ID}}\\t{{.Image}}'), '{{.ID}}\t{{.Image}}');
  assert.equal(templateStringFromFormat('table'), '');
  assert.equal(templateStringFromFormat('json'), '{{json .}}');
  assert.equal(templateStringFromFormat('  {{.ID}}\t '), '{{.ID}}\t');
});

test('trim markers and comments', () => {
  assert.equal(render('a  {{- .Count -}}  b'), 'a3b');
  assert.equal(render('a\n\t{{- .Count}}\n'), 'a3\n');
  assert.equal(render('{{- /* gone */ -}}  x  {{- 3 -}} y {{-3}}'), 'x3y -3');
  assert.equal(render('a{{/* comment */}}b'), 'ab');
  assert.equal(render('{{.Count\n-}}\n\nz'), '3z');
});

test('field chains, missing keys, nil values and methods', () => {
  assert.equal(render('{{.Missing}}'), '<no value>');
  assert.equal(render('{{.Missing.Deeper}}'), '<no value>');
  assert.equal(render('{{.Ports}}'), '<nil>');
  assert.equal(render('{{.State.Pid}} {{.State.Running}}'), '42 true');
  assert.equal(render('{{.}}', 'just a string'), 'just a string');
  assert.equal(render('{{.M.k}} {{.M.nope}}', { M: new Map([['k', 'v']]) }), 'v <no value>');
  assert.equal(render('{{.Greet "a" "b"}}', { Greet: (x: string, y: string) => `${x}+${y}` }), 'a+b');
  assert.equal(render('{{"piped" | .Label}}'), 'label:piped');
});

test('struct-like objects: unknown and unexported names are errors', () => {
  const row = new Row({});
  assert.equal(renderError('{{.Nope}}', row), 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type Row');
  assert.equal(renderError('{{.hidden}}', row), 'template: :1:2: executing "" at <.hidden>: hidden is an unexported field of struct type Row');
  assert.equal(renderError('{{.Boom}}', row), 'template: :1:2: executing "" at <.Boom>: error calling Boom: kaboom');
});

test('variables, assignment and parenthesised pipelines', () => {
  assert.equal(render('{{$x := .Name}}{{$x}}'), 'nginx-proxy');
  assert.equal(render('{{$x := 1}}{{$x = "two"}}{{$x}}'), 'two');
  assert.equal(render('{{$n := 0}}{{range .List}}{{$n = .}}{{end}}{{$n}}'), '5');
  assert.equal(render('{{$s := .State}}{{$s.Status}}'), 'running');
  assert.equal(render('{{range .Args}}{{$.Names}}:{{.}} {{end}}'), 'web:-g web:daemon off; ');
  assert.equal(render('{{(index .Mounts 1).Source}}'), '/b');
  assert.equal(render('{{printf "%s-%s" (upper .Names) (lower "X")}}'), 'WEB-x');
  assert.equal(render('{{if $v := .State.Status}}{{$v}}{{end}}'), 'running');
});

test('literals: strings with Go escapes, raw strings, numbers, chars, bools', () => {
  assert.equal(render('{{"a\\tb\\u00e9\\x41\\101\\""}}'), 'a\tbéAA"');
  assert.equal(render('{{`raw\\n{{`}}'), 'raw\\n{{');
  assert.equal(render('{{42}} {{-7}} {{0x1F}} {{0o17}} {{0b101}} {{1_000}}'), '42 -7 31 15 5 1000');
  assert.equal(render('{{1.5}} {{0.00001}} {{1e3}} {{2.50}}'), '1.5 1e-05 1000 2.5');
  assert.equal(render("{{'a'}} {{'\\n'}}"), '97 10');
  assert.equal(render('{{true}} {{false}}'), 'true false');
});

test('if / else if / else and truthiness', () => {
  const tpl = compileTemplate('{{if .A}}a{{else if .B}}b{{else}}c{{end}}');
  assert.equal(tpl({ A: 1, B: 1 }), 'a');
  assert.equal(tpl({ A: 0, B: 'x' }), 'b');
  for (const falsy of [false, 0, '', [], {}, null, undefined, new Map()]) {
    assert.equal(render('{{if .V}}T{{else}}F{{end}}', { V: falsy }), 'F', `falsy: ${String(falsy)}`);
  }
  for (const truthy of [true, 1, -1, 0.1, 'x', [0], { a: 0 }, new Row({})]) {
    assert.equal(render('{{if .V}}T{{else}}F{{end}}', { V: truthy }), 'T');
  }
  assert.equal(render('{{if not .Empty}}none{{end}}'), 'none');
});

test('with / else / else with', () => {
  assert.equal(render('{{with .State}}{{.Status}}{{end}}'), 'running');
  assert.equal(render('{{with .Missing}}x{{else}}empty{{end}}'), 'empty');
  assert.equal(render('{{with .Missing}}a{{else with .Names}}b={{.}}{{else}}c{{end}}'), 'b=web');
});

test('range over lists, maps, Maps and ints, with else, break and continue', () => {
  assert.equal(render('{{range $i, $e := .Args}}{{$i}}={{$e}};{{end}}'), '0=-g;1=daemon off;;');
  assert.equal(render('{{range $v := .List}}{{$v}}{{end}}'), '12345');
  assert.equal(render('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}'), 'a.b=yes com.example=x ');
  assert.equal(render('{{range $k, $v := .}}{{$k}}{{$v}}{{end}}', new Map<unknown, unknown>([[10, 'b'], [2, 'a']])), '2a10b');
  assert.equal(render('{{range .Empty}}x{{else}}none{{end}}'), 'none');
  assert.equal(render('{{range .Ports}}x{{else}}no ports{{end}}'), 'no ports');
  assert.equal(render('{{range .List}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}'), '13');
  assert.equal(render('{{range 3}}{{.}}{{end}}'), '012');
});

test('and, or, not, len, index, slice', () => {
  assert.equal(render('{{or .Missing "default"}} {{and 1 0}} {{and 1 2}} {{or 0 ""}}'), 'default 0 2 ');
  assert.equal(render('{{or 1 .Boom}}', new Row({})), '1');
  assert.equal(render('{{not 0}} {{not "x"}}'), 'true false');
  assert.equal(render('{{len .List}} {{len "héllo"}} {{len .Config.Labels}} {{len .Ports}}'), '5 6 2 0');
  assert.equal(render('{{index .List 0}} {{index .Config.Labels "nope"}}|{{index "abc" 1}}'), '1 |98');
  assert.equal(render('{{index .Nested "a" 1}}', { Nested: { a: ['x', 'y'] } }), 'y');
  assert.equal(render('{{slice "héllo" 0 3}} {{slice .List 1 3}} {{slice .List 3}}'), 'hé [2 3] [4 5]');
});

test('print, println and printf verbs, flags, width and precision', () => {
  assert.equal(render('{{print 1 2 "a" "b" 3}}'), '1 2ab3');
  assert.equal(render('{{println "a" 1}}'), 'a 1\n');
  assert.equal(render('{{printf "%s|%d|%v|%q|%t" "a" 42 3.5 "hi\\n" true}}'), 'a|42|3.5|"hi\\n"|true');
  assert.equal(render('{{printf "%x|%X|%o|%b|%#x|%08.3f" 255 255 8 5 255 3.14159}}'), 'ff|FF|10|101|0xff|0003.142');
  assert.equal(render('{{printf "%f|%.2f|%5.1f|%e|%g" 3.14159 3.14159 2.25 1234.5678 0.000012345}}'), '3.141590|3.14|  2.2|1.234568e+03|1.2345e-05');
  assert.equal(render('{{printf "%05d|%+d|%x|% d" 42 7 "hi" 5}}'), '00042|+7|6869| 5');
  assert.equal(render('{{printf "%c|%U|%q" 65 0x1F600 \'x\'}}'), 'A|U+1F600|\'x\'');
  assert.equal(render('{{printf "%T %T %T %T %T" "a" 1 1.5 true .List}}'), 'string int float64 bool []interface {}');
  assert.equal(render('{{printf "%5s|%-10s|%.3s|%-4d|" "ab" "cd" "abcdef" 7}}'), '   ab|cd        |abc|7   |');
  assert.equal(render('{{printf "%v %s %d" .List .Args .List}}'), '[1 2 3 4 5] [-g daemon off;] [1 2 3 4 5]');
  assert.equal(render('{{printf "%v" .Config}}'), 'map[Labels:map[a.b:yes com.example:x]]');
  assert.equal(render('{{printf "%d%%" 50}}'), '50%');
  assert.equal(render('{{printf "%*d|%.*f" 4 7 1 2.25}}'), '   7|2.2');
});

test('printf reports bad verbs, missing and extra operands like fmt', () => {
  assert.equal(render('{{printf "%d %s" "a"}}'), '%!d(string=a) %!s(MISSING)');
  assert.equal(render('{{printf "%d" 1 2}}'), '1%!(EXTRA int=2)');
  assert.equal(render('{{printf "%s|%t" 5 "x"}}'), '%!s(int=5)|%!t(string=x)');
  assert.equal(render('{{printf "%d" .Missing}}'), '%!d(<nil>)');
  assert.equal(render('{{printf "%z" 1}}'), '%!z(int=1)');
});

test('html, js and urlquery escapers', () => {
  assert.equal(render('{{html "<a href=\'x\'>&\\"</a>"}}'), '&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;');
  assert.equal(render('{{js "it\'s <b> \\"q\\" = \\\\"}}'), 'it\\\'s \\u003Cb\\u003E \\"q\\" \\u003D \\\\');
  assert.equal(render('{{urlquery "a b&c=d/é"}}'), 'a+b%26c%3Dd%2F%C3%A9');
  assert.equal(render('{{html .Missing}}'), '&lt;no value&gt;');
});

test('comparisons: eq with several operands, ne, lt, le, gt, ge', () => {
  assert.equal(render('{{eq .State.Status "created" "exited" "running"}}'), 'true');
  assert.equal(render('{{eq .Count 1 2}} {{ne .Count 3}} {{eq .Missing nil}}'), 'false false true');
  assert.equal(render('{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1.5 2.5}}'), 'true true true false');
  assert.equal(render('{{eq .Missing ""}}'), 'false');
  assert.equal(
    renderError('{{eq 1 "a"}}'),
    'template: :1:2: executing "" at <eq 1 "a">: error calling eq: incompatible types for comparison: int and string',
  );
  assert.equal(renderError('{{lt true false}}'), 'template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison');
});

test('json: Go encoding, field order kept, HTML not escaped (docker disables it)', () => {
  assert.equal(
    render('{{json .}}', { b: 1, a: 'x<y>&z', c: [1, 2.5], d: null, e: { z: true }, u: undefined, f: () => 1 }),
    '{"b":1,"a":"x<y>&z","c":[1,2.5],"d":null,"e":{"z":true}}',
  );
  assert.equal(render('{{json .Missing}} {{json "a\\"b\\u2028"}}'), 'null "a\\"b\\u2028"');
  assert.equal(render('{{json .}}', new Map([['b', 1], ['a', 2]])), '{"a":2,"b":1}');
  assert.equal(render('{{json .}}', { toJSON: () => ({ ID: 'x' }) }), '{"ID":"x"}');
  assert.equal(render('{{json .}}', { When: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) }), '{"When":"2024-01-02T03:04:05Z"}');
});

test('docker functions: split, join, title, lower, upper, pad, truncate', () => {
  assert.equal(render('{{split "a,b,c" ","}} {{len (split "abc" "")}}'), '[a b c] 3');
  assert.equal(render('{{join (split "a:b" ":") "-"}} {{join .List "+"}} {{join .Config.Labels ","}}'), 'a-b 1+2+3+4+5 x,yes');
  assert.equal(render('{{join .Missing ","}}|'), '|');
  assert.equal(render('{{title "hello world-foo_bar"}}'), 'Hello World-Foo_bar');
  assert.equal(render('{{lower "ÀB"}} {{upper "straße"}}'), 'àb STRAßE');
  assert.equal(render('[{{pad "abc" 2 3}}][{{pad "" 2 3}}]'), '[  abc   ][]');
  assert.equal(render('{{truncate "abcdef" 3}} {{truncate "ab" 5}}'), 'abc ab');
  // docker slices bytes, not runes.
  assert.equal(render('{{truncate "日本語" 3}}'), '日');
  assert.equal(
    renderError('{{join "abc" ","}}'),
    'template: :1:2: executing "" at <join "abc" ",">: error calling join: expected slice, got string',
  );
});

test('define, template and block', () => {
  assert.equal(render('{{define "T"}}[{{.}}]{{end}}{{template "T" .Names}}'), '[web]');
  assert.equal(render('{{block "B" .Names}}b:{{.}}{{end}}'), 'b:web');
  assert.equal(render('{{define "T"}}{{$}}{{end}}{{range .Args}}{{template "T" .}}{{end}}'), '-gdaemon off;');
});

test('parse errors carry Go messages', () => {
  assert.throws(() => compileTemplate('{{.Foo }'), new TemplateError('template: :1: unexpected "}" in operand'));
  const cases: Array<[string, string]> = [
    ['{{.Foo}', "template: :1: bad character U+007D '}'"],
    ['{{if .X}}a', 'template: :1: unexpected EOF'],
    ['{{end}}', 'template: :1: unexpected {{end}}'],
    ['{{foo}}', 'template: :1: function "foo" not defined'],
    ['{{$x}}', 'template: :1: undefined variable "$x"'],
    ['{{break}}', 'template: :1: {{break}} outside {{range}}'],
    ['{{.A | "x"}}', 'template: :1: non executable command in pipeline stage 2'],
    ['{{if}}x{{end}}', 'template: :1: missing value for if'],
    ['{{"\\q"}}', 'template: :1: invalid syntax'],
    ['{{/* open', 'template: :1: unclosed comment'],
    ['a\n{{.A\n\n', 'template: :4: unclosed action started at :2'],
    ['{{if .A}}{{else}}{{else}}{{end}}', 'template: :1: expected end; found {{else}}'],
  ];
  for (const [src, message] of cases) {
    assert.throws(() => compileTemplate(src), (err: unknown) => err instanceof TemplateError && err.message === message, src);
  }
});

test('execution errors carry Go locations (byte columns) and contexts', () => {
  assert.equal(renderError('{{.Names.Bar}}'), 'template: :1:8: executing "" at <.Names.Bar>: can\'t evaluate field Bar in type string');
  assert.equal(renderError('é{{.Names.Y}}'), 'template: :1:10: executing "" at <.Names.Y>: can\'t evaluate field Y in type string');
  assert.equal(renderError('x\n  {{index .List 6}}'), 'template: :2:4: executing "" at <index .List 6>: error calling index: index out of range: 6');
  assert.equal(renderError('{{index .List 5}}'), 'template: :1:2: executing "" at <index .List 5>: error calling index: reflect: slice index out of range');
  assert.equal(renderError('{{len 3}}'), 'template: :1:2: executing "" at <len 3>: error calling len: len of type int');
  assert.equal(renderError('{{template "nope"}}'), 'template: :1:11: executing "" at <{{template "nope"}}>: template "nope" not defined');
  assert.equal(renderError('{{upper}}'), 'template: :1:2: executing "" at <upper>: wrong number of args for upper: want 1 got 0');
  assert.equal(renderError('{{pad "a" "x" 1}}'), 'template: :1:10: executing "" at <"x">: expected integer; found "x"');
  assert.equal(renderError('{{upper .Count}}'), 'template: :1:8: executing "" at <.Count>: wrong type for value; expected string; got int');
  assert.equal(renderError('{{.Names 1}}'), 'template: :1:2: executing "" at <.Names>: Names is not a method but has arguments');
  assert.equal(renderError('{{nil}}'), 'template: :1:2: executing "" at <nil>: nil is not a command');
  assert.equal(renderError('{{.Ports.X}}'), 'template: :1:8: executing "" at <.Ports.X>: nil pointer evaluating interface {}.X');
  assert.equal(renderError('{{range .Count}}{{end}}{{range .Names}}{{end}}'), 'template: :1:31: executing "" at <.Names>: range can\'t iterate over web');
});

test('call invokes a function value without calling it as a method first', () => {
  assert.equal(render('{{call .Add 2 3}}', { Add: (a: number, b: number) => a + b }), '5');
  assert.equal(renderError('{{call .Names}}'), 'template: :1:2: executing "" at <call .Names>: error calling call: non-function .Names of type string');
});

test('compileTemplate parses once and renders many rows', () => {
  const tpl = compileTemplate('{{.ID}}:{{.Names}}');
  assert.equal(tpl({ ID: 'a', Names: 'x' }), 'a:x');
  assert.equal(tpl({ ID: 'b', Names: 'y' }), 'b:y');
});

test('header functions leave column titles intact', () => {
  const header = { Names: 'NAMES', ID: 'CONTAINER ID' };
  assert.equal(compileTemplate('{{lower .ID}}\t{{truncate .Names 2}}', { headerFunctions: true })(header), 'CONTAINER ID\tNAMES');
  assert.equal(compileTemplate('{{lower .ID}}')(header), 'container id');
});

test('formatValue prints like fmt %v', () => {
  assert.equal(formatValue('s'), 's');
  assert.equal(formatValue(3), '3');
  assert.equal(formatValue(-2.5), '-2.5');
  assert.equal(formatValue(1234567.5), '1.2345675e+06');
  assert.equal(formatValue(0.0001), '0.0001');
  assert.equal(formatValue(true), 'true');
  assert.equal(formatValue(null), '<nil>');
  assert.equal(formatValue(undefined), '<nil>');
  assert.equal(formatValue([1, 'a', null, [true]]), '[1 a <nil> [true]]');
  assert.equal(formatValue({ b: 1, a: [1, 2], c: {} }), 'map[a:[1 2] b:1 c:map[]]');
  assert.equal(formatValue(new Map([['z', 1], ['y', 2]])), 'map[y:2 z:1]');
  assert.equal(formatValue(new Error('boom')), 'boom');
  assert.equal(formatValue(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 120))), '2024-01-02 03:04:05.12 +0000 UTC');
  assert.equal(formatValue(Infinity), '+Inf');
  assert.equal(formatValue(1e21), '1e+21');
});
