import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LineSplitter, parseLogLine, tailOffset, toUtcTimestamp } from '../../src/engine/runtime/log-reader';
import { resolveUser } from '../../src/engine/runtime/user';
import { runtimeErrorMessage } from '../../src/engine/runtime/conmon';
import { AttachSession, parseDetachKeys } from '../../src/engine/containers/attach';
import { mergeEnv, resolveCommand } from '../../src/engine/containers/create-config';
import { parseSignal } from '../../src/engine/containers/service';
import { humanDuration } from '../../src/util/human';

test('k8s-file log lines become Docker log records', () => {
  const full = parseLogLine('2026-11-23T11:42:59.010539408+00:00 stdout F out1')!;
  assert.equal(full.stream, 'stdout');
  assert.equal(full.data.toString(), 'out1\n');
  assert.equal(full.timestamp, '2026-11-23T11:42:59.010539408Z');
  const partial = parseLogLine('2026-11-23T11:42:59.5+01:00 stderr P abc')!;
  assert.equal(partial.data.toString(), 'abc');
  assert.equal(partial.timestamp, '2026-11-23T10:42:59.5Z');
  assert.equal(parseLogLine('2026-11-23T11:42:59Z stdout F ')!.data.toString(), '\n');
  assert.equal(parseLogLine('garbage'), undefined);
  assert.equal(toUtcTimestamp('2026-01-01T00:00:01.000000001Z').ns, 1767225601000000001n);
});

test('tailOffset finds the last N lines by reading backwards', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tail-'));
  const file = path.join(dir, 'log');
  const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const text = (n: number) => fs.readFileSync(file).subarray(tailOffset(file, n)).toString();
  assert.equal(text(2), 'line 49998\nline 49999\n');
  assert.equal(text(0), '');
  assert.equal(text(100_000), lines.join('\n') + '\n');
  fs.rmSync(dir, { recursive: true });
});

test('LineSplitter keeps partial lines and multibyte characters across chunks', () => {
  const s = new LineSplitter();
  const bytes = Buffer.from('héllo\nwor');
  assert.deepEqual(s.push(bytes.subarray(0, 2)), []);
  assert.deepEqual(s.push(bytes.subarray(2)), ['héllo']);
  assert.deepEqual(s.push(Buffer.from('ld\n')), ['world']);
});

test('resolveUser follows passwd and group like moby', () => {
  const files: Record<string, string> = {
    '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n',
    '/etc/group': 'root:x:0:\napp:x:1000:\nstaff:x:50:app,other\n',
  };
  const read = (p: string) => files[p];
  assert.deepEqual(resolveUser('', read), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
  assert.deepEqual(resolveUser('app', read), { uid: 1000, gid: 1000, additionalGids: [50], home: '/home/app' });
  assert.deepEqual(resolveUser('1000:staff', read), { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' });
  assert.deepEqual(resolveUser('4242:4343', read), { uid: 4242, gid: 4343, additionalGids: [], home: '/' });
  assert.throws(() => resolveUser('ghost', read), /unable to find user ghost: no matching entries in passwd file/);
  assert.throws(() => resolveUser('app:ghosts', read), /unable to find group ghosts: no matching entries in group file/);
});

test('runc logrus errors are reduced to their message', () => {
  const line = 'time="2026-11-29T12:58:44Z" level=error msg="runc create failed: unable to start container process: exec: \\"x\\": executable file not found in $PATH"';
  assert.equal(runtimeErrorMessage(line), 'runc create failed: unable to start container process: exec: "x": executable file not found in $PATH');
  assert.equal(runtimeErrorMessage('plain failure\n'), 'plain failure');
});

test('detach keys parse and are detected across chunks, with partial matches passed on', () => {
  assert.deepEqual(parseDetachKeys(''), [16, 17]);
  assert.deepEqual(parseDetachKeys('ctrl-x,a'), [24, 97]);
  assert.throws(() => parseDetachKeys('ctrl-xx'), /Invalid escape keys/);
  const fed: string[] = [];
  let ended = false;
  let detached = false;
  const s = new AttachSession(
    { stdin: true, stdout: true, stderr: true, stdinOnce: false, detachKeys: [16, 17], onDetach: () => (detached = true) },
    { output() {}, end: () => (ended = true) },
  );
  s.bind({
    add: () => () => undefined,
    writeStdin: (b: Buffer) => fed.push(b.toString('latin1')),
    closeStdin() {},
  } as never);
  s.pushStdin(Buffer.from('ab\x10'));
  s.pushStdin(Buffer.from('c\x10'));
  assert.equal(detached, false);
  s.pushStdin(Buffer.from('\x11zzz'));
  assert.equal(detached, true);
  assert.equal(ended, true);
  assert.equal(fed.join(''), 'ab\x10c');
});

test('entrypoint and cmd follow Docker\'s override rules', () => {
  const img = { Entrypoint: ['/entry'], Cmd: ['default'] };
  assert.deepEqual(resolveCommand(img, null, null), { entrypoint: ['/entry'], cmd: ['default'], path: '/entry', args: ['default'] });
  assert.deepEqual(resolveCommand(img, null, ['x']).args, ['x']);
  assert.deepEqual(resolveCommand(img, ['sh'], null), { entrypoint: ['sh'], cmd: null, path: 'sh', args: [] });
  assert.deepEqual(resolveCommand({ Cmd: ['sh'] }, [''], ['ls']), { entrypoint: null, cmd: ['ls'], path: 'ls', args: [] });
  assert.throws(() => resolveCommand({}, null, null), /no command specified/);
  assert.deepEqual(mergeEnv(['PATH=/bin', 'A=1'], ['A=2', 'B=3']), ['PATH=/bin', 'A=2', 'B=3']);
});

test('signals by name, SIG name or number', () => {
  assert.equal(parseSignal('KILL'), 'SIGKILL');
  assert.equal(parseSignal('sigterm'), 'SIGTERM');
  assert.equal(parseSignal('9'), 'SIGKILL');
  assert.throws(() => parseSignal('NOPE'), /Invalid signal: NOPE/);
});

test('human durations use Docker\'s words', () => {
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(59_000), '59 seconds');
  assert.equal(humanDuration(60_000), 'About a minute');
  assert.equal(humanDuration(45 * 60_000), '45 minutes');
  assert.equal(humanDuration(3_600_000), 'About an hour');
  assert.equal(humanDuration(5 * 3_600_000), '5 hours');
  assert.equal(humanDuration(3 * 86_400_000), '3 days');
});
