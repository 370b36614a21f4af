import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogRotator, logRotationFromConfig, parseSize, rotateLog, rotatedLogFiles } from '../../src/engine/runtime/log-rotation';
import { streamLogs } from '../../src/engine/containers/logs';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'logrot-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const line = (i: number) => `2026-11-29T10:00:00.${String(i).padStart(9, '0')}+00:00 stdout F line-${i}\n`;

test('log options: Docker\'s sizes, defaults 10 MiB × 3, and texts for bad values', () => {
  assert.deepEqual(logRotationFromConfig(undefined), { maxSize: 10 << 20, maxFiles: 3 });
  assert.deepEqual(logRotationFromConfig({ Type: 'json-file', Config: { 'max-size': '1.5k', 'max-file': '5' } }), { maxSize: 1500, maxFiles: 5 });
  assert.deepEqual(logRotationFromConfig({ Config: { 'max-size': '10MiB' } }).maxSize, 10_000_000, 'decimal, as go-units FromHumanSize');
  assert.deepEqual(logRotationFromConfig({ Config: { 'max-size': '-1' } }), { maxSize: 0, maxFiles: 3 });
  assert.equal(parseSize('10m'), 10_000_000);
  assert.equal(parseSize('2GB'), 2e9);
  assert.throws(() => logRotationFromConfig({ Config: { 'max-size': 'abc' } }), /invalid size: 'abc'/);
  assert.throws(() => logRotationFromConfig({ Config: { 'max-file': '0' } }), /max-file cannot be less than 1/);
  assert.throws(() => logRotationFromConfig({ Config: { 'max-size': '0' } }), /max-size must be a positive number/);
  assert.throws(() => logRotationFromConfig({ Config: { foo: 'x' } }), /unknown log opt 'foo' for json-file log driver/);
});

test('rotateLog shifts the files, keeps max-file in all, and asks conmon to reopen through the ctl fifo', async () => {
  const dir = fs.mkdtempSync(path.join(root, 'r-'));
  const log = path.join(dir, 'container.log');
  const ctl = path.join(dir, 'ctl');
  assert.equal(spawnSync('mkfifo', [ctl]).status, 0);
  const fd = fs.openSync(ctl, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const readCtl = () => {
    const b = Buffer.alloc(64);
    try {
      return b.subarray(0, fs.readSync(fd, b, 0, 64, null)).toString();
    } catch {
      return '';
    }
  };
  for (let round = 0; round < 4; round++) {
    fs.writeFileSync(log, `round ${round}\n`);
    rotateLog(log, 3, ctl);
    assert.equal(readCtl(), '2 0 0\n');
  }
  assert.deepEqual(rotatedLogFiles(log), [`${log}.2`, `${log}.1`]);
  assert.equal(fs.readFileSync(`${log}.1`, 'utf8'), 'round 3\n');
  assert.equal(fs.readFileSync(`${log}.2`, 'utf8'), 'round 2\n');
  fs.writeFileSync(log, 'x\n');
  rotateLog(log, 1, ctl);
  assert.deepEqual(rotatedLogFiles(log), []);
  fs.closeSync(fd);
});

test('the rotator watches a live log and stops when the bundle goes', async () => {
  const bundle = fs.mkdtempSync(path.join(root, 'b-'));
  const log = path.join(bundle, 'container.log');
  const ctl = path.join(bundle, 'ctl');
  spawnSync('mkfifo', [ctl]);
  const fd = fs.openSync(ctl, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  fs.writeFileSync(log, 'x'.repeat(2000));
  const r = new LogRotator(20);
  r.watch('c1', bundle, log, { maxSize: 1000, maxFiles: 2 });
  assert.ok(fs.existsSync(`${log}.1`)); // checked at once
  fs.writeFileSync(log, 'y'.repeat(1500));
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(fs.readFileSync(`${log}.1`, 'utf8'), 'y'.repeat(1500));
  const resumed = new LogRotator(20);
  resumed.resume(root);
  fs.closeSync(fd);
  fs.rmSync(ctl);
  await new Promise((res) => setTimeout(res, 60));
  r.stop();
  resumed.stop();
});

test('streamLogs reads rotated files in order, and --tail spans them', async () => {
  const dir = fs.mkdtempSync(path.join(root, 's-'));
  const log = path.join(dir, 'container.log');
  let i = 0;
  for (const f of [`${log}.2`, `${log}.1`, log]) {
    let text = '';
    for (let k = 0; k < 10; k++) text += line(i++);
    fs.writeFileSync(f, text);
  }
  const read = async (tail?: number) => {
    const out: string[] = [];
    await streamLogs(log, { stdout: true, stderr: true, follow: false, tail }, (rec) => {
      out.push(rec.data.toString().trim());
    });
    return out;
  };
  const all = await read();
  assert.deepEqual(all, Array.from({ length: 30 }, (_, k) => `line-${k}`));
  assert.deepEqual(await read(3), ['line-27', 'line-28', 'line-29']);
  assert.deepEqual(await read(15), all.slice(15));
  assert.deepEqual(await read(100), all);
  assert.deepEqual(await read(0), []);
  // --since/--until apply across the files.
  const window: string[] = [];
  await streamLogs(log, { stdout: true, stderr: true, follow: false, sinceNs: BigInt(Date.parse('2026-11-29T10:00:00Z')) * 1_000_000n + 8n, untilNs: BigInt(Date.parse('2026-11-29T10:00:00Z')) * 1_000_000n + 12n }, (rec) => {
    window.push(rec.data.toString().trim());
  });
  assert.deepEqual(window, ['line-8', 'line-9', 'line-10', 'line-11', 'line-12']);
  fs.rmSync(log);
  assert.deepEqual(await read(5), all.slice(15, 20)); // live file not there (rotated, not reopened yet)
});

test('streamLogs with follow moves to the new file after a rotation and loses nothing', async () => {
  const dir = fs.mkdtempSync(path.join(root, 'f-'));
  const log = path.join(dir, 'container.log');
  fs.writeFileSync(log, line(0));
  const got: string[] = [];
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const done = streamLogs(log, { stdout: true, stderr: true, follow: true }, (rec) => {
    got.push(rec.data.toString().trim());
  }, { stopped, aborted: new AbortController().signal });
  await new Promise((r) => setTimeout(r, 50));
  fs.appendFileSync(log, line(1));
  fs.renameSync(log, `${log}.1`);
  fs.appendFileSync(`${log}.1`, line(2)); // written before the monitor reopened the log
  fs.renameSync(`${log}.1`, `${log}.2`); // and rotated once more before the reader looked
  fs.writeFileSync(`${log}.1`, line(3));
  fs.writeFileSync(log, line(4));
  await new Promise((r) => setTimeout(r, 400));
  fs.appendFileSync(log, line(5));
  await new Promise((r) => setTimeout(r, 400));
  stop();
  await done;
  assert.deepEqual(got, ['line-0', 'line-1', 'line-2', 'line-3', 'line-4', 'line-5']);
});
