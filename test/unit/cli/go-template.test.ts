/**
 * Go's text/template for --format (src/cli/go-template.ts): every construct Docker users write,
 * Go's and Docker's functions, Go's printing and truth, the errors (an unknown field is one, a
 * missing map key is not), `table` formats aligned as tabwriter does, and formats copied from
 * docker CLI usage run against an inspect-shaped document.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { alignTabs, dockerHeader, isTableFormat, parseTemplate, renderTemplate, tableTemplate } from '../../../src/cli/go-template.js';
import { printInspect } from '../../../src/cli/berth/format.js';
import { BerthError } from '../../../src/util/errors.js';

/** A container document in the shape of `docker inspect`. */
function doc() {
  return {
    Id: 'f'.repeat(64),
    Name: '/web',
    Args: ['-c', 'sleep 10'],
    State: { Status: 'running', Running: true, Pid: 4242, ExitCode: 0, Health: null },
    Config: {
      Image: 'busybox', Env: ['PATH=/bin', 'A=1'],
      Labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' },
      Volumes: { '/data': {} }, ExposedPorts: null,
    },
    HostConfig: { Memory: 5e8, NanoCpus: 1.5e9, LogConfig: { Type: 'json-file', Config: {} } },
    Mounts: [{ Type: 'bind', Source: '/srv', Destination: '/data', RW: true }, { Type: 'volume', Source: '/v', Destination: '/cache', RW: false }],
    NetworkSettings: { IPAddress: '', Networks: { bridge: { IPAddress: '172.17.0.2', Gateway: '172.17.0.1' } } },
    GraphDriver: { Name: 'overlay', Data: { RootPath: '/var/lib/berth/x' } },
  };
}

const r = (tpl: string, data: unknown = doc()) => renderTemplate(tpl, data);

/** The error `fn` throws: a BerthError EINVALID_ARG, whose message is returned. */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BerthError, `not a BerthError: ${String(err)}`);
    assert.equal(err.code, 'EINVALID_ARG');
    return err.message;
  }
  assert.fail('no error thrown');
}

test('docker CLI formats render as docker renders them', () => {
  assert.equal(r('{{.Name}} {{.State.Status}}'), '/web running');
  assert.equal(r('{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}'), '/srv:/data /v:/cache ');
  assert.equal(r('{{json .Config.Labels}}'), '{"com.docker.compose.project":"shop","com.docker.compose.service":"web"}');
  assert.equal(r('{{index .Config.Labels "com.docker.compose.project"}}'), 'shop');
  assert.equal(r('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}'), 'com.docker.compose.project=shop,com.docker.compose.service=web,');
  assert.equal(r('{{join .Args " "}}'), '-c sleep 10');
  assert.equal(r('{{if .State.Running}}up{{else}}down{{end}}'), 'up');
  assert.equal(r('{{.State.Pid | printf "%d"}}'), '4242');
  assert.equal(r('{{upper .Name}}'), '/WEB');
  assert.equal(r('{{(index .NetworkSettings.Networks "bridge").IPAddress}}'), '172.17.0.2');
  assert.equal(r('{{range $n, $c := .NetworkSettings.Networks}}{{$n}} {{$c.IPAddress}}{{end}}'), 'bridge 172.17.0.2');
  assert.equal(r('{{json .Mounts}}'), JSON.stringify(doc().Mounts));
  assert.equal(r('{{.HostConfig.Memory}} {{.GraphDriver.Data.RootPath}}'), '500000000 /var/lib/berth/x');
});

test('dot, fields, $ and variables', () => {
  assert.equal(r('{{.}}', 'x'), 'x');
  assert.equal(r('{{.A.B.C}}', { A: { B: { C: 3 } } }), '3');
  assert.equal(r('{{range .Mounts}}{{$.Name}}:{{.Type}} {{end}}'), '/web:bind /web:volume ');
  assert.equal(r('{{$}}', 7), '7');
  assert.equal(r('{{$x := .State.Pid}}{{$x}}'), '4242');
  assert.equal(r('{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}'), '2', 'assignment reaches the outer variable');
  assert.equal(r('{{$m := .NetworkSettings.Networks}}{{$m.bridge.Gateway}}'), '172.17.0.1');
  assert.equal(r('{{with $s := .State}}{{$s.Status}}{{end}}'), 'running');
  assert.match(failure(() => parseTemplate('{{if true}}{{$x := 1}}{{end}}{{$x}}')), /undefined variable "\$x"/, 'a variable ends with its {{end}}');
  assert.match(failure(() => parseTemplate('{{$y = 1}}')), /undefined variable "\$y"/);
});

test('a missing field of a struct is an error naming it and where it is', () => {
  assert.equal(failure(() => r('{{.Nope}}')),
    'template: :1:2: executing "{{.Nope}}" at <.Nope>: field "Nope" does not exist (valid fields: Id, Name, Args, State, Config, HostConfig, Mounts, NetworkSettings, GraphDriver)');
  assert.match(failure(() => r('x\n  {{.State.Nope}}')), /^template: :2:4: executing "x\\n  \{\{\.State\.Nope\}\}" at <\.State\.Nope>: field "Nope" does not exist \(valid fields: Status, Running, Pid, ExitCode, Health\)$/);
  assert.match(failure(() => r('{{.id}}')), /field "id" does not exist \(did you mean "Id"\?\)/);
  assert.match(failure(() => r('{{json .Nope}}')), /at <\.Nope>: field "Nope"/, 'also as an argument');
  assert.match(failure(() => r('{{range .Mounts}}{{.Nope}}{{end}}')), /field "Nope" does not exist \(valid fields: Type, Source, Destination, RW\)/);
  const many = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`F${i}`, i]));
  assert.match(failure(() => r('{{.X}}', many)), /valid fields: F0, F1, .*F19, … 5 more\)$/);
  assert.match(failure(() => r('{{.State.Health.Status}}')), /nil pointer evaluating \.State\.Health\.Status/);
  assert.match(failure(() => r('{{.Name.X}}')), /can't evaluate field X in type string/);
  assert.match(failure(() => r('{{.Mounts.Source}}')), /can't evaluate field Source in a list/);
});

test('a missing key of a map-typed value (Labels, Networks, Data …) is no value, not an error', () => {
  assert.equal(r('{{.Config.Labels.nope}}'), '<no value>');
  assert.equal(r('{{.Config.Labels.nope.deeper}}'), '<no value>');
  assert.equal(r('{{.NetworkSettings.Networks.host}}'), '<no value>');
  assert.equal(r('{{.GraphDriver.Data.UpperDir}}'), '<no value>');
  assert.equal(r('{{.Config.Volumes.x}} {{.HostConfig.LogConfig.Config.maxsize}}'), '<no value> <no value>');
  assert.equal(r('{{.Config.ExposedPorts.x}}'), '<no value>', 'null under a map key is an empty map');
  assert.equal(r('{{with .Config.Labels}}{{.nope}}{{end}}'), '<no value>', 'the map reached through with');
  assert.equal(r('{{index .Config.Labels "nope"}}'), '', 'index gives the zero value of a map of strings');
  assert.match(failure(() => r('{{.NetworkSettings.Networks.bridge.Nope}}')), /field "Nope" does not exist/, 'the map\'s values are structs');
  assert.match(failure(() => r('{{.HostConfig.Config}}')), /field "Config" does not exist/, 'LogConfig.Config is a map, HostConfig is not');
});

test('range: lists, maps in key order, integers, else, break and continue', () => {
  assert.equal(r('{{range .}}[{{.}}]{{end}}', ['a', 'b']), '[a][b]');
  assert.equal(r('{{range $i, $e := .}}{{$i}}={{$e}} {{end}}', ['a', 'b']), '0=a 1=b ');
  assert.equal(r('{{range $e := .}}{{$e}}{{end}}', ['a', 'b']), 'ab');
  assert.equal(r('{{range $k, $v := .}}{{$k}}{{$v}}{{end}}', { b: 2, a: 1, c: 3 }), 'a1b2c3');
  assert.equal(r('{{range .Config.Labels}}{{.}} {{end}}'), 'shop web ');
  assert.equal(r('{{range 3}}{{.}}{{end}}'), '012');
  assert.equal(r('{{range .}}x{{else}}empty{{end}}', []), 'empty');
  assert.equal(r('{{range .}}x{{else}}empty{{end}}', {}), 'empty');
  assert.equal(r('{{range .Config.Labels.nope}}x{{else}}none{{end}}'), 'none');
  assert.equal(r('{{range .}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}', [1, 2, 3, 4, 5]), '13');
  assert.match(failure(() => r('{{range .Name}}{{end}}')), /range can't iterate over \/web/);
});

test('if, else if, else, with', () => {
  const t = '{{if eq .State.Status "exited"}}E{{else if .State.Running}}R{{else}}O{{end}}';
  assert.equal(r(t), 'R');
  assert.equal(r(t, { State: { Status: 'exited', Running: false } }), 'E');
  assert.equal(r(t, { State: { Status: 'paused', Running: false } }), 'O');
  assert.equal(r('{{with .State}}{{.Status}}{{end}}'), 'running');
  assert.equal(r('{{with .Config.Labels.nope}}x{{else}}none{{end}}'), 'none');
  assert.equal(r('{{with .A}}a{{else with .B}}b={{.}}{{else}}c{{end}}', { A: '', B: 2 }), 'b=2');
});

test('pipelines, parentheses and chains on them', () => {
  assert.equal(r('{{.Name | upper | printf "<%s>"}}'), '</WEB>');
  assert.equal(r('{{"a" | printf "%s-%s" "b"}}'), 'b-a', 'the piped value is the last argument');
  assert.equal(r('{{index (split "a,b,c" ",") 1}}'), 'b');
  assert.equal(r('{{(index .Mounts 1).Destination}}'), '/cache');
  assert.equal(r('{{len (print .State.Pid)}}'), '4');
  assert.match(failure(() => r('{{.Name | .State}}')), /can't give argument to non-function \.State/);
});

test('literals: Go strings, raw strings, numbers, chars, booleans, nil', () => {
  assert.equal(r('{{"a\\tb\\n\\"q\\" \\x41\\u00e9 \\101"}}'), 'a\tb\n"q" Aé A');
  assert.equal(r('{{`raw \\t {{x}}`}}'), 'raw \\t {{x}}');
  assert.equal(r('{{1}} {{-2}} {{0x1F}} {{0o17}} {{017}} {{1_000}} {{1.5}} {{2e3}} {{.5}}'), '1 -2 31 15 15 1000 1.5 2000 0.5');
  assert.equal(r("{{'a'}} {{'\\n'}}"), '97 10');
  assert.equal(r('{{true}} {{false}}'), 'true false');
  assert.equal(r('{{eq .State.Health nil}}'), 'true');
});

test('trim markers and comments', () => {
  assert.equal(r('a  {{- "b" -}}  \n c'), 'abc');
  assert.equal(r('{{-3}}'), '-3', '{{- without a space is a number');
  assert.equal(r('a {{/* a comment {{.Nope}} */}} b'), 'a  b');
  assert.equal(r('a \n{{- /* trimmed */ -}}\n b'), 'ab');
  assert.equal(r('{{range .Args -}}\n  {{.}}\n{{- end}}'), '-csleep 10');
});

test('the shell\'s \\t and \\n in a format are a tab and a newline', () => {
  assert.equal(r('{{.Name}}\\t{{.State.Status}}\\n'), '/web\trunning\n');
  assert.equal(r('{{"\\\\t"}}'), '\\t', 'inside an action Go\'s escapes apply');
  assert.equal(r('{{.}}', 'a\\tb'), 'a\\tb', 'the data is printed as it is');
});

test('Go\'s functions: and, or, not, len, index, slice, print, printf, println', () => {
  assert.equal(r('{{and 1 "x"}} {{and 1 0 "x"}} {{or 0 "" "z"}} {{or 0 ""}} {{not .State.Running}}'), 'x 0 z  false');
  assert.equal(r('{{if and .Args (index .Args 0)}}y{{end}}'), 'y');
  assert.equal(r('{{and false (index .Args 99)}}'), 'false', 'and stops at the first false value, as Go does');
  assert.equal(r('{{or true (index .Args 99)}}'), 'true');
  assert.equal(r('{{len .Args}} {{len .Config.Labels}} {{len .Name}} {{len "é"}}'), '2 2 4 2');
  assert.equal(r('{{index .Args 1}} {{index .Mounts 0 "Source"}} {{index . "Name"}}'), 'sleep 10 /srv /web');
  assert.equal(r('{{slice .Name 1}} {{slice .Name 1 3}} {{slice .Args 1}}'), 'web we [sleep 10]');
  assert.equal(r('{{print 1 2 "a" "b" 3 true}}'), '1 2ab3 true');
  assert.equal(r('{{println "a" 1}}'), 'a 1\n');
  assert.match(failure(() => r('{{index .Args 5}}')), /at <index>: error calling index: index out of range: 5/);
  assert.match(failure(() => r('{{len 3}}')), /error calling len: len of type int/);
  assert.match(failure(() => r('{{not}}')), /wrong number of args for not: want 1 got 0/);
});

test('printf: Go\'s verbs, flags, width and precision, and its %!verb markers', () => {
  assert.equal(r('{{printf "%s|%d|%v|%q|%t" "a" 42 .Args "b" true}}'), 'a|42|[-c sleep 10]|"b"|true');
  assert.equal(r('{{printf "%-10s|%10s|%5d|%-5d|%05d|%+d" "ab" "cd" 42 42 42 7}}'), 'ab        |        cd|   42|42   |00042|+7');
  assert.equal(r('{{printf "%x %X %#x %o %b %c %U %%" 255 255 255 8 5 65 65}}'), 'ff FF 0xff 10 101 A U+0041 %');
  assert.equal(r('{{printf "%x" "hi"}} {{printf "%.2f" 3.14159}} {{printf "%8.3f" 2.5}} {{printf "%e" 1500.0}} {{printf "%g" 0.5}} {{printf "%.3g" 1234.5678}}'),
    '6869 3.14    2.500 1.500000e+03 0.5 1.23e+03');
  assert.equal(r('{{printf "%.3s" "abcdef"}} {{printf "%q" "a\\nb"}} {{printf "%v" .Config.Labels}}'),
    'abc "a\\nb" map[com.docker.compose.project:shop com.docker.compose.service:web]');
  assert.equal(r('{{printf "%d" "x"}} {{printf "%s %s" "a"}} {{printf "x" 1}} {{printf "%s" nil}}'),
    '%!d(string=x) a %!s(MISSING) x%!(EXTRA int=1) %!s(<nil>)');
});

test('comparisons: eq with several values, ne, lt, le, gt, ge; mixed types are an error', () => {
  assert.equal(r('{{eq .State.Status "exited" "running"}} {{eq 1 2}} {{ne "a" "b"}}'), 'true false true');
  assert.equal(r('{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}} {{lt 1.5 2}}'), 'true true true false true');
  assert.match(failure(() => r('{{eq "a" 1}}')), /error calling eq: incompatible types for comparison: string and int/);
  assert.match(failure(() => r('{{lt true false}}')), /error calling lt: incompatible types/);
  assert.match(failure(() => r('{{eq .Args .Args}}')), /non-comparable type/);
});

test('Docker\'s functions: json, split, join, title, lower, upper, pad, truncate', () => {
  assert.equal(r('{{json .}}', { a: '<b>&', n: [1, null] }), '{"a":"<b>&","n":[1,null]}', 'no HTML escaping, no trailing newline');
  assert.equal(r('{{json .Config.Labels.nope}}'), 'null');
  assert.equal(r('{{split "a,b,,c" ","}} {{len (split "abc" "")}}'), '[a b  c] 3');
  assert.equal(r('{{join (split "a b c" " ") ","}}'), 'a,b,c');
  assert.equal(r('{{title "hello wide-world_x"}} {{lower "AbC"}} {{upper "AbC"}}'), 'Hello Wide-World_x abc ABC');
  assert.equal(r('[{{pad "x" 2 3}}][{{pad "" 2 3}}]'), '[  x   ][]');
  assert.equal(r('{{truncate "abcdef" 3}} {{truncate "ab" 3}}'), 'abc ab');
  assert.match(failure(() => r('{{upper .State.Pid}}')), /error calling upper: argument 1 must be a string, not int "4242"/);
  assert.match(failure(() => r('{{split "a"}}')), /wrong number of args for split: want 2 got 1/);
});

test('truth as Go has it: false, 0, nil, "", empty lists and maps are false', () => {
  const t = '{{if .}}T{{else}}F{{end}}';
  for (const v of [false, 0, null, '', [], {}]) assert.equal(r(t, v), 'F', JSON.stringify(v));
  assert.equal(r('{{if .Config.Labels.nope}}T{{else}}F{{end}}'), 'F', 'no value');
  for (const v of [true, 1, -1, 0.5, 'x', [0], { a: 0 }]) assert.equal(r(t, v), 'T', JSON.stringify(v));
});

test('values print as Go\'s %v: lists, maps with sorted keys, integers without exponent', () => {
  assert.equal(r('{{.Args}}'), '[-c sleep 10]');
  assert.equal(r('{{.}}', { b: [1, { y: true, x: null }], a: 'z' }), 'map[a:z b:[1 map[x:<nil> y:true]]]');
  assert.equal(r('{{.HostConfig.NanoCpus}} {{.}}', { HostConfig: { NanoCpus: 1.5e9 } }), '1500000000 map[HostConfig:map[NanoCpus:1500000000]]');
  assert.equal(r('{{.}}', 1e21), '1000000000000000000000');
  assert.equal(r('{{.A}} {{.B}} {{.C}}', { A: 0.25, B: 1234567.5, C: 0.00001 }), '0.25 1.2345675e+06 1e-05');
  assert.equal(r('{{.}}', null), '<no value>');
  assert.equal(r('{{.State.Health}}'), '<no value>');
});

test('parse errors say what is wrong and on which line', () => {
  const cases: [string, RegExp][] = [
    ['{{.Name', /^template: :1: unclosed action$/],
    ['a\nb {{.Name', /^template: :2: unclosed action$/],
    ['{{.Name}', /^template: :1: unrecognized character in action: "}"$/],
    ['{{end}}', /^template: :1: unexpected \{\{end\}\}$/],
    ['{{else}}', /^template: :1: unexpected \{\{else\}\}$/],
    ['{{foo .Name}}', /^template: :1: function "foo" not defined$/],
    ['{{if .A}}x', /^template: :1: unexpected EOF: \{\{if\}\} at line 1 has no \{\{end\}\}$/],
    ['{{range .A}}{{else}}{{else}}{{end}}', /expected \{\{end\}\}; found a second \{\{else\}\}/],
    ['{{/* open', /unclosed comment/],
    ['{{break}}', /\{\{break\}\} outside \{\{range\}\}/],
    ['{{define "x"}}{{end}}', /\{\{define\}\} is not supported/],
    ['{{}}', /missing value for command/],
    ['{{if}}{{end}}', /missing value for if/],
    ['{{"abc}}', /unterminated quoted string/],
    ['{{3x}}', /bad number syntax/],
    ['{{.A | }}', /missing command after \|/],
    ['{{(.A}}', /unclosed left paren/],
    ['{{nil}}', /nil is not a command/],
    ['{{.A#}}', /unrecognized character in action: "#"/],
    ['{{$x, $y := .A}}', /too many declarations in command/],
  ];
  for (const [tpl, re] of cases) assert.match(failure(() => parseTemplate(tpl)), re, tpl);
});

test('a template parses once and executes against many documents', () => {
  const t = parseTemplate('{{.Name}}');
  assert.deepEqual([{ Name: 'a' }, { Name: 'b' }].map((d) => t.execute(d)), ['a', 'b']);
});

test('table formats: Docker\'s header names and tabwriter columns', () => {
  assert.equal(isTableFormat('table {{.ID}}'), true);
  assert.equal(isTableFormat('table'), true);
  assert.equal(isTableFormat('{{.ID}}'), false);
  assert.deepEqual(['ID', 'Names', 'CreatedAt', 'CPUPerc', 'PIDs', 'IPv6', 'NetIO', 'RunningFor'].map(dockerHeader),
    ['ID', 'NAMES', 'CREATED AT', 'CPU PERC', 'PIDS', 'IPV6', 'NET IO', 'RUNNING FOR']);
  const rows = [{ ID: 'abc', Names: 'web', CreatedAt: 'now' }, { ID: 'abcdef0123456', Names: 'a-long-name', CreatedAt: 'then' }];
  const t = tableTemplate('table {{.ID}}\\t{{.Names}}\\t{{.CreatedAt}}', { headers: { ID: 'CONTAINER ID' } });
  assert.equal(t.header, 'CONTAINER ID\tNAMES\tCREATED AT');
  assert.equal(t.render(rows), [
    'CONTAINER ID    NAMES         CREATED AT',
    'abc             web           now',
    'abcdef0123456   a-long-name   then',
    '',
  ].join('\n'));
  assert.equal(tableTemplate('table {{upper .Names}}\t{{json .ID}}: {{printf "%-6s" .Names}}').header, 'NAMES\tID: NAMES ', 'header functions keep the header');
  assert.equal(tableTemplate('table   {{.Names}}  ').render([]), 'NAMES\n', 'spaces around the template are trimmed; no rows: the header');
  assert.match(failure(() => tableTemplate('table {{.ID}}').render([{ Names: 'x' }])), /field "ID" does not exist/);
  assert.match(failure(() => tableTemplate('{{.ID}}')), /not a table format/);
});

test('alignTabs: columns at least 10 wide, padding 3, the last cell not padded, blocks of lines', () => {
  assert.deepEqual(alignTabs(['a\tb\tc', 'dddddddddddd\te\tf']), ['a              b         c', 'dddddddddddd   e         f']);
  assert.deepEqual(alignTabs(['a\tb', 'no tabs here', 'ccc\td']), ['a         b', 'no tabs here', 'ccc       d'], 'a line without the column ends its block');
  assert.deepEqual(alignTabs(['x', '']), ['x', '']);
  assert.deepEqual(alignTabs(['é\tb'], 4, 1), ['é   b'], 'width counts characters');
});

test('printInspect: a template error is `berth: …` on stderr, exit 1, nothing on stdout', async () => {
  const sink = () => { const s = { text: '', write(c: string) { s.text += c; return true; } }; return s; };
  const run = async (format: string) => {
    const out = { stdout: sink(), stderr: sink() };
    let lookups = 0;
    const code = await printInspect(out as never, ['a', 'b'], async (ref) => { lookups++; return { Name: ref }; }, format);
    return { code, stdout: out.stdout.text, stderr: out.stderr.text, lookups };
  };
  assert.deepEqual(await run('{{.Name}}'), { code: 0, stdout: 'a\nb\n', stderr: '', lookups: 2 });
  const bad = await run('{{.Nope}}');
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /^berth: template: :1:2: executing "\{\{\.Nope\}\}" at <\.Nope>: field "Nope" does not exist \(valid fields: Name\)\n$/);
  const unparsable = await run('{{.Name');
  assert.deepEqual(unparsable, { code: 1, stdout: '', stderr: 'berth: template: :1: unclosed action\n', lookups: 0 });
});

test('methods of the data: .Label "key" on a ps row, in a table too; a method needs its arguments', () => {
  const row = { Names: 'web', Label: (k: string) => ({ team: 'a' } as Record<string, string>)[k] ?? '' };
  assert.equal(renderTemplate('{{.Names}} {{.Label "team"}}|{{.Label "none"}}', row), 'web a|');
  assert.equal(tableTemplate('table {{.Names}}\t{{.Label "team"}}', {}).render([row]), 'NAMES     LABEL\nweb       a\n');
  assert.throws(() => renderTemplate('{{.Label}}', row), /wrong number of args for \.Label: want 1 got 0/);
  assert.throws(() => renderTemplate('{{.Names "x"}}', row), /can't give argument to non-function/);
});
