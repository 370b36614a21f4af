import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestDaemon, sleep } from './harness';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

/** Container life-cycle traffic that keeps going while the daemon is killed under it. */
async function churn(stopAt: { done: boolean }, worker: number): Promise<void> {
  for (let i = 0; !stopAt.done; i++) {
    const name = `w${worker}-${i}`;
    const step = i % 4;
    if (step === 0) await d.docker(['run', '--rm', 'busybox', 'true'], { timeoutMs: 10_000 });
    else if (step === 1) await d.docker(['run', '-d', '--name', name, 'busybox', 'sleep', '30'], { timeoutMs: 10_000 });
    else if (step === 2) await d.docker(['stop', '-t', '0', `w${worker}-${i - 1}`], { timeoutMs: 10_000 });
    else await d.docker(['exec', `w${worker}-${i - 2}`, 'true'], { timeoutMs: 10_000 });
  }
}

test('kill -9 of berthd at arbitrary moments during run, stop and exec leaves a consistent state', async () => {
  const stopAt = { done: false };
  const workers = [churn(stopAt, 1), churn(stopAt, 2)];
  for (const delay of [400, 900, 250, 1300]) {
    await sleep(delay);
    await d.kill9();
    await sleep(100);
    await d.launch();
  }
  await sleep(500);
  stopAt.done = true;
  await Promise.all(workers);

  const list = JSON.parse((await d.api('GET', '/containers/json?all=1')).body) as Array<{ Id: string; State: string }>;
  for (const c of list) {
    const info = JSON.parse((await d.api('GET', `/containers/${c.Id}/json`)).body);
    if (info.State.Status === 'running') {
      assert.ok(info.State.Pid > 0, `${c.Id} running with a pid`);
      process.kill(info.State.Pid, 0);
      // a running container still answers exec
      const exec = await d.docker(['exec', c.Id, 'true']);
      assert.equal(exec.code, 0, exec.stderr);
    } else {
      assert.equal(info.State.Pid, 0);
      assert.ok(['created', 'exited'].includes(info.State.Status), info.State.Status);
    }
  }
  // No bundles or snapshots for containers that no longer exist.
  const ids = new Set(list.map((c) => c.Id));
  const bundles = fs.readdirSync(path.join(d.execRoot, 'c')).filter((b) => !ids.has(b));
  assert.deepEqual(bundles, []);
  // Every container can be removed, and nothing is left behind (checked by stop()).
  for (const c of list) assert.equal((await d.api('DELETE', `/containers/${c.Id}?force=1`)).status, 204);
  await sleep(300);
  const snapshots = fs.readdirSync(path.join(d.dataRoot, 'snapshots'));
  assert.deepEqual(snapshots, []);
});
