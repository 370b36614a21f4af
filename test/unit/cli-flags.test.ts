import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagDef, FlagError, FlagSet, HELP_FLAG, HelpRequested, parseGoDuration, parseGoInt } from '../../src/cli/flags';

const defs: FlagDef[] = [
  { name: 'detach', short: 'd', type: 'bool', usage: '' },
  { name: 'interactive', short: 'i', type: 'bool', usage: '' },
  { name: 'tty', short: 't', type: 'bool', usage: '' },
  { name: 'name', type: 'string', usage: '' },
  { name: 'env', short: 'e', type: 'list', usage: '' },
  { name: 'last', short: 'n', type: 'int', usage: '', default: -1 },
  { name: 'sig-proxy', type: 'bool', usage: '', default: true },
  { name: 'time', type: 'int', usage: '', hidden: true, deprecated: 'use --timeout instead' },
  HELP_FLAG,
];
const fs = new FlagSet(defs);

test('combined short flags and values', () => {
  const { flags, args } = fs.parse(['-dit', '--name=web', '-e', 'A=1', '-eB=2', '--env', 'C=3', 'img']);
  assert.equal(flags.bool('detach'), true);
  assert.equal(flags.bool('interactive'), true);
  assert.equal(flags.bool('tty'), true);
  assert.equal(flags.string('name'), 'web');
  assert.deepEqual(flags.list('env'), ['A=1', 'B=2', 'C=3']);
  assert.deepEqual(args, ['img']);
});

test('short flag with attached value and = forms', () => {
  assert.equal(fs.parse(['-n5']).flags.int('last'), 5);
  assert.equal(fs.parse(['-n=7']).flags.int('last'), 7);
  assert.equal(fs.parse(['-n', '0x10']).flags.int('last'), 16);
  assert.equal(fs.parse([]).flags.int('last'), -1);
  const r = fs.parse(['-dn', '3']);
  assert.equal(r.flags.bool('detach'), true);
  assert.equal(r.flags.int('last'), 3);
});

test('bool flags take =value but never the next argument', () => {
  const r = fs.parse(['--sig-proxy=false', '--detach', 'false']);
  assert.equal(r.flags.bool('sig-proxy'), false);
  assert.equal(r.flags.bool('detach'), true);
  assert.deepEqual(r.args, ['false']);
  assert.equal(fs.parse([]).flags.bool('sig-proxy'), true);
  assert.equal(fs.parse(['-d=0']).flags.bool('detach'), false);
});

test('non-interspersed parsing stops at the first positional', () => {
  const r = fs.parse(['-d', 'busybox', 'sh', '-c', 'echo --name x', '--name', 'y'], { interspersed: false });
  assert.equal(r.flags.string('name'), '');
  assert.deepEqual(r.args, ['busybox', 'sh', '-c', 'echo --name x', '--name', 'y']);
});

test('interspersed parsing collects positionals between flags', () => {
  const r = fs.parse(['a', '-d', 'b', '--name', 'n', 'c']);
  assert.deepEqual(r.args, ['a', 'b', 'c']);
  assert.equal(r.flags.isSet('name'), true);
  assert.equal(r.flags.isSet('tty'), false);
});

test('-- ends flag parsing and a lone - is positional', () => {
  const r = fs.parse(['-d', '--', '-t', '--name', 'x']);
  assert.equal(r.flags.bool('tty'), false);
  assert.deepEqual(r.args, ['-t', '--name', 'x']);
  assert.deepEqual(fs.parse(['-', '-d']).args, ['-']);
});

test('error messages match pflag', () => {
  const msg = (argv: string[]) => {
    try {
      fs.parse(argv);
    } catch (err) {
      assert.ok(err instanceof FlagError);
      return err.message;
    }
    return '';
  };
  assert.equal(msg(['--x']), 'unknown flag: --x');
  assert.equal(msg(['-x']), "unknown shorthand flag: 'x' in -x");
  assert.equal(msg(['-dx']), "unknown shorthand flag: 'x' in -x");
  assert.equal(msg(['--name']), 'flag needs an argument: --name');
  assert.equal(msg(['-n']), "flag needs an argument: 'n' in -n");
  assert.equal(msg(['-n', 'abc']), 'invalid argument "abc" for "-n, --last" flag: strconv.ParseInt: parsing "abc": invalid syntax');
  assert.equal(msg(['--detach=foo']), 'invalid argument "foo" for "-d, --detach" flag: strconv.ParseBool: parsing "foo": invalid syntax');
  assert.equal(msg(['---x']), 'bad flag syntax: ---x');
});

test('help and deprecation notices', () => {
  assert.throws(() => fs.parse(['--help']), HelpRequested);
  const warnings: string[] = [];
  assert.throws(() => fs.parse(['-h'], { warn: (m) => warnings.push(m) }), HelpRequested);
  assert.deepEqual(warnings, ['Flag shorthand -h has been deprecated, use --help']);
  warnings.length = 0;
  assert.equal(fs.parse(['--time', '3'], { warn: (m) => warnings.push(m) }).flags.int('time'), 3);
  assert.deepEqual(warnings, ['Flag --time has been deprecated, use --timeout instead']);
  // After a positional in non-interspersed mode, --help belongs to the container command.
  assert.deepEqual(fs.parse(['img', '--help'], { interspersed: false }).args, ['img', '--help']);
});

test('validators and maps', () => {
  const v = new FlagSet([
    { name: 'attach', short: 'a', type: 'list', usage: '', validate: (s) => {
      if (!['stdin', 'stdout', 'stderr'].includes(s.toLowerCase())) throw new Error('valid streams are STDIN, STDOUT and STDERR');
      return s.toLowerCase();
    } },
    { name: 'sysctl', type: 'map', usage: '' },
  ]);
  const r = v.parse(['-a', 'STDOUT', '--sysctl', 'a.b=1', '--sysctl', 'c=2=3']);
  assert.deepEqual(r.flags.list('attach'), ['stdout']);
  assert.deepEqual(r.flags.map('sysctl'), { 'a.b': '1', c: '2=3' });
  assert.throws(() => v.parse(['-a', 'foo']), /invalid argument "foo" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR/);
});

test('Go number and duration parsing', () => {
  assert.equal(parseGoInt('-12'), -12);
  assert.equal(parseGoInt('010'), 8);
  assert.throws(() => parseGoInt('1.5'), /invalid syntax/);
  assert.throws(() => parseGoInt('99999999999999999999'), /value out of range/);
  assert.equal(parseGoDuration('1m30s'), 90e9);
  assert.equal(parseGoDuration('1.5h'), 5400e9);
  assert.equal(parseGoDuration('0'), 0);
  assert.throws(() => parseGoDuration('5'), /invalid duration/);
});
