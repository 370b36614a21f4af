import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, UsageError } from '../../src/daemon/config';

const sandboxes: string[] = [];
after(() => sandboxes.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
const tmp = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berthcfg-'));
  sandboxes.push(dir);
  return dir;
};

test('defaults follow dockerd\'s layout with Berth\'s names', () => {
  const a = loadConfig([]);
  assert.equal(a.kind, 'run');
  if (a.kind !== 'run') return;
  assert.deepEqual(a.config.hosts, ['/run/berth/berth.sock']);
  assert.equal(a.config.dataRoot, '/var/lib/berth');
  assert.equal(a.config.execRoot, '/run/berth');
  assert.equal(a.config.pidfile, '/run/berth/berthd.pid');
  assert.equal(a.config.cgroupParent, 'berth');
});

test('flags: repeatable -H, short and long forms, --flag=value', () => {
  const a = loadConfig(['-H', 'unix:///tmp/a.sock', '--host=unix:///tmp/b.sock', '--data-root', '/tmp/d', '--exec-root=/tmp/e', '-l', 'debug', '--cgroup-parent', '/x/y/']);
  assert.equal(a.kind, 'run');
  if (a.kind !== 'run') return;
  assert.deepEqual(a.config.hosts, ['/tmp/a.sock', '/tmp/b.sock']);
  assert.equal(a.config.dataRoot, '/tmp/d');
  assert.equal(a.config.execRoot, '/tmp/e');
  assert.equal(a.config.pidfile, '/tmp/e/berthd.pid');
  assert.equal(a.config.logLevel, 'debug');
  assert.equal(a.config.cgroupParent, 'x/y');
});

test('daemon.json supplies Docker\'s keys; unknown keys and flag conflicts are refused like dockerd', () => {
  const dir = tmp();
  const file = path.join(dir, 'daemon.json');
  fs.writeFileSync(file, JSON.stringify({ 'data-root': '/tmp/fromfile', hosts: ['unix:///tmp/f.sock'], 'log-level': 'warn', debug: false }));
  const a = loadConfig(['--config-file', file]);
  assert.ok(a.kind === 'run');
  if (a.kind !== 'run') return;
  assert.equal(a.config.dataRoot, '/tmp/fromfile');
  assert.deepEqual(a.config.hosts, ['/tmp/f.sock']);
  assert.equal(a.config.logLevel, 'warn');
  assert.throws(
    () => loadConfig(['--config-file', file, '--data-root', '/tmp/x']),
    (e: Error) => e instanceof UsageError && /specified both as a flag and in the configuration file: data-root/.test(e.message),
  );
  fs.writeFileSync(file, JSON.stringify({ 'no-such-option': 1 }));
  assert.throws(() => loadConfig(['--config-file', file]), /don't match any configuration option: no-such-option/);
  fs.writeFileSync(file, '{oops');
  assert.throws(() => loadConfig(['--config-file', file]), /unable to configure the Berth daemon with file/);
  assert.throws(() => loadConfig(['--config-file', path.join(dir, 'missing.json')]), /no such file/);
});

test('bad flags are usage errors', () => {
  assert.throws(() => loadConfig(['--bogus']), /unknown flag: --bogus/);
  assert.throws(() => loadConfig(['--data-root']), /flag needs an argument: --data-root/);
  assert.throws(() => loadConfig(['-H', 'tcp://0.0.0.0:2375']), /only unix:\/\/ sockets/);
  assert.throws(() => loadConfig(['--log-level', 'loud']), /unable to parse logging level: loud/);
  assert.deepEqual(loadConfig(['--help']), { kind: 'help' });
  assert.deepEqual(loadConfig(['-v']), { kind: 'version' });
});
