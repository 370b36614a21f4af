import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TabWriter } from '../../src/cli/format/tabwriter';
import { formatG, humanDuration, humanSize, humanSizeWithPrecision, bytesSize, goQuoteString } from '../../src/cli/format/units';
import { ellipsis, stringWidth } from '../../src/cli/format/width';
import { ContainerRow, displayablePorts } from '../../src/cli/format/container';
import { imageRows } from '../../src/cli/format/image';
import { compactJSON, indentJSON } from '../../src/cli/format/json';
import { marshalRow, preFormat, renderFormatted, headerContext } from '../../src/cli/format/table';
import { flagUsages, wrapText } from '../../src/cli/help';
import { familiarString, parseNormalizedNamed, tagNameOnly } from '../../src/cli/reference';

const tw = (text: string, min = 10, pad = 3) => {
  const w = new TabWriter(min, 1, pad, ' ');
  w.write(text);
  return w.flush();
};

test('tabwriter aligns tab-terminated cells with minwidth and padding', () => {
  assert.equal(
    tw('CONTAINER ID\tIMAGE\tNAMES\n1b9d0e88e264\tbusybox:local\txweb\nabc\tx\ty\n'),
    'CONTAINER ID   IMAGE           NAMES\n' + '1b9d0e88e264   busybox:local   xweb\n' + 'abc            x               y\n',
  );
});

test('tabwriter: trailing cell is not a column and empty cells still pad', () => {
  assert.equal(tw('a\t\tc\nbb\t\td\n'), 'a                   c\nbb                  d\n');
  assert.equal(tw('x\tlong-trailing-text\nyy\tz\n'), 'x' + ' '.repeat(9) + 'long-trailing-text\nyy' + ' '.repeat(8) + 'z\n');
});

test('tabwriter: a line without tabs ends the column block', () => {
  assert.equal(tw('a\tb\nheader only\nccccccccccccc\td\n'), 'a         b\nheader only\nccccccccccccc   d\n');
});

test('tabwriter uses display width for wide characters', () => {
  assert.equal(stringWidth('日本語'), 6);
  assert.equal(tw('日本語\tx\nab\ty\n'), '日本語' + ' '.repeat(4) + 'x\nab' + ' '.repeat(8) + 'y\n');
});

test('tabwriter with version-style settings (minwidth 20, padding 1)', () => {
  assert.equal(tw(' Version:\t1.0\n API version:\t1.50', 20, 1), ' Version:           1.0\n API version:       1.50');
});

test('Go %g and go-units sizes', () => {
  assert.equal(formatG(1.5, 3), '1.5');
  assert.equal(formatG(999.95, 3), '1e+03');
  assert.equal(formatG(100, 3), '100');
  assert.equal(formatG(12, 3), '12');
  assert.equal(formatG(0, 3), '0');
  assert.equal(formatG(12.25, 3), '12.2'); // round half to even on exact ties
  assert.equal(formatG(4.26155, 3), '4.26');
  assert.equal(formatG(0.00001234, 3), '1.23e-05');
  assert.equal(humanSizeWithPrecision(4261550, 3), '4.26MB');
  assert.equal(humanSizeWithPrecision(12345, 3), '12.3kB');
  assert.equal(humanSizeWithPrecision(0, 3), '0B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(1234567), '1.235MB');
  assert.equal(bytesSize(16657932288), '15.51GiB');
});

test('HumanDuration', () => {
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(45_000), '45 seconds');
  assert.equal(humanDuration(60_000), 'About a minute');
  assert.equal(humanDuration(13 * 60_000), '13 minutes');
  assert.equal(humanDuration(3600_000), 'About an hour');
  assert.equal(humanDuration(5 * 3600_000), '5 hours');
  assert.equal(humanDuration(3 * 86400_000), '3 days');
  assert.equal(humanDuration(20 * 86400_000), '2 weeks');
  assert.equal(humanDuration(90 * 86400_000), '3 months');
  assert.equal(humanDuration(800 * 86400_000), '2 years');
});

test('Ellipsis and Go quoting for the COMMAND column', () => {
  assert.equal(ellipsis('httpd -f -p 80', 20), 'httpd -f -p 80');
  assert.equal(ellipsis('sh -c \'echo "hello world"\'', 20), 'sh -c \'echo "hello …');
  assert.equal(ellipsis('日本語のコマンドです長い長い長い長い', 20), '日本語のコマンドで…');
  assert.equal(goQuoteString('sh -c \'echo "x"\'\n'), '"sh -c \'echo \\"x\\"\'\\n"');
});

test('ports are grouped like docker', () => {
  assert.equal(
    displayablePorts([
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { PrivatePort: 443, Type: 'tcp' },
      { PrivatePort: 444, Type: 'tcp' },
      { PrivatePort: 53, Type: 'udp' },
    ]),
    '53/udp, 443-444/tcp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp',
  );
  assert.equal(displayablePorts([{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 80, Type: 'tcp' }]), '0.0.0.0:80->80/tcp');
});

test('container row fields', () => {
  const now = 1_700_000_000_000;
  const row = new ContainerRow(
    {
      Id: '1b9d0e88e2645a06a85543b80020277eb6ba7b18c9b9c6cb89dcb4fc158d422c',
      Names: ['/xweb/link', '/xweb'],
      Image: 'docker.io/library/busybox:latest',
      ImageID: 'sha256:6fdd',
      Command: 'httpd -f -p 80',
      Created: now / 1000 - 800,
      Labels: { b: '2', a: '1' },
    },
    true,
    () => now,
  );
  assert.equal(row.ID(), '1b9d0e88e264');
  assert.equal(row.Names(), 'xweb');
  assert.equal(row.Image(), 'busybox:latest');
  assert.equal(row.Command(), '"httpd -f -p 80"');
  assert.equal(row.RunningFor(), '13 minutes ago');
  assert.equal(row.Labels(), 'a=1,b=2');
  assert.equal(row.Label('b'), '2');
  assert.equal(row.sizeUsed, false);
  assert.equal(row.Size(), '0B');
  assert.equal(row.sizeUsed, true);
  assert.deepEqual(Object.keys(row.toJSON()), [
    'Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Platform',
    'Ports', 'RunningFor', 'Size', 'State', 'Status',
  ]);
  const byId = new ContainerRow({ Image: 'sha256:6fdd06ba563dde31', ImageID: 'sha256:6fdd06ba563dde31' }, true);
  assert.equal(byId.Image(), '6fdd06ba563d');
  assert.equal(new ContainerRow({}, true).Image(), '<no image>');
});

test('image rows: one per repo:tag, dangling as <none>', () => {
  const rows = imageRows(
    [
      { Id: 'sha256:aaa', ParentId: '', RepoTags: ['busybox:latest', 'localhost:5000/bb:1'], RepoDigests: ['busybox@sha256:' + 'c'.repeat(64)], Created: 0, Size: 1, SharedSize: -1, Labels: null, Containers: -1 },
      { Id: 'sha256:bbb', ParentId: '', RepoTags: [], RepoDigests: [], Created: 0, Size: 1, SharedSize: -1, Labels: null, Containers: -1 },
    ],
    { trunc: true, digest: true, format: '' },
  );
  assert.deepEqual(
    rows.map((r) => [r.Repository(), r.Tag(), r.Digest()]),
    [
      ['busybox', 'latest', 'sha256:' + 'c'.repeat(64)],
      ['localhost:5000/bb', '1', '<none>'],
      ['<none>', '<none>', '<none>'],
    ],
  );
});

test('json indent and compact keep raw tokens', () => {
  const raw = '{"a":[],"b":{},"c":[1,{"d":"x,y:{"}],"e":1.5e+300}\n';
  assert.equal(indentJSON(raw, '    '), '{\n    "a": [],\n    "b": {},\n    "c": [\n        1,\n        {\n            "d": "x,y:{"\n        }\n    ],\n    "e": 1.5e+300\n}');
  assert.equal(compactJSON('[ {"a" : "b c"} ,\n 1 ]'), '[{"a":"b c"},1]');
});

test('format preprocessing and header templates', () => {
  assert.equal(preFormat('table {{.ID}}\\t{{.Names}}'), '{{.ID}}\t{{.Names}}');
  assert.equal(preFormat('json'), '{{json .}}');
  assert.equal(preFormat('  {{.ID}}\\n '), '{{.ID}}\n');
  assert.equal(marshalRow({ Digest: '<none>', Ports: '0.0.0.0:80->80/tcp', A: 'a&b' }), '{"Digest":"\\u003cnone\\u003e","Ports":"0.0.0.0:80-\\u003e80/tcp","A":"a\\u0026b"}');
});

test('table formats render the header with pass-through functions', () => {
  const rows = [{ Names: 'web', ID: 'abc' }];
  assert.equal(
    renderFormatted('table {{json .Names}}\\t{{upper .ID}}', rows, headerContext({ Names: 'NAMES', ID: 'CONTAINER ID' })),
    'NAMES     CONTAINER ID\n"web"     ABC\n',
  );
  assert.equal(renderFormatted('table {{.Label "com.example.some-label"}}', [], headerContext({})), 'some label\n');
  assert.equal(renderFormatted('{{.ID}}', rows, headerContext({})), 'abc\n');
});

test('flag usage wrapping matches pflag', () => {
  assert.equal(
    wrapText(25, 79, 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'),
    'Show logs since timestamp (e.g.\n' + ' '.repeat(25) + '"2013-01-02T13:23:37Z") or relative (e.g. "42m"\n' + ' '.repeat(25) + 'for 42 minutes)',
  );
  assert.equal(
    flagUsages(
      [
        { name: 'tail', short: 'n', type: 'string', usage: 'Number of lines', default: 'all' },
        { name: 'follow', short: 'f', type: 'bool', usage: 'Follow log output' },
        { name: 'hidden', type: 'bool', usage: 'x', hidden: true },
      ],
      79,
    ),
    '  -f, --follow        Follow log output\n  -n, --tail string   Number of lines (default "all")\n',
  );
});

test('image references', () => {
  const r = parseNormalizedNamed('busybox');
  assert.equal(r.name, 'docker.io/library/busybox');
  assert.equal(familiarString(tagNameOnly(r)), 'busybox:latest');
  assert.equal(parseNormalizedNamed('localhost:5000/pulltest:v1').name, 'localhost:5000/pulltest');
  assert.equal(familiarString(parseNormalizedNamed('docker.io/mytest/commit:2')), 'mytest/commit:2');
  assert.throws(() => parseNormalizedNamed('Busybox'), /must be lowercase/);
  assert.throws(() => parseNormalizedNamed('a'.repeat(64)), /64-byte hexadecimal/);
});
