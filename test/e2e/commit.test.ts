import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from './harness';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  assert.deepEqual(await d.stop(), []);
});

const ok = (args: string[]) => d.dockerOk(args);

test('diff lists A/C/D from the container layer, whiteouts as deletions, engine mount points left out', async () => {
  await ok(['run', '--name', 'df1', '-v', '/newvol', 'busybox', 'sh', '-c', 'mkdir -p /a/b; echo x > /a/b/c; rm -rf /home; echo >> /etc/passwd; rm /etc/group; rm -rf /usr; mkdir /usr; touch /usr/z']);
  assert.equal(
    await ok(['diff', 'df1']),
    ['A /a', 'A /a/b', 'A /a/b/c', 'C /etc', 'D /etc/group', 'C /etc/passwd', 'D /home', 'A /newvol', 'C /usr', 'A /usr/z', ''].join('\n'),
  );
  const api = await d.api('GET', '/containers/df1/changes');
  assert.deepEqual(JSON.parse(api.body).slice(0, 2), [{ Path: '/a', Kind: 1 }, { Path: '/a/b', Kind: 1 }]);
  await ok(['run', '--name', 'df2', 'busybox', 'true']);
  assert.equal((await d.api('GET', '/containers/df2/changes')).body.trim(), 'null');
  assert.equal(await ok(['diff', 'df2']), '');
  assert.match((await d.docker(['diff', 'nope'])).stderr, /No such container: nope/);
  assert.equal((await d.berth(['diff', 'df1'])).stdout, await ok(['diff', 'df1']));
});

test('commit with author, message and changes: layer, config and history as Docker writes them', async () => {
  const id = (
    await ok([
      'commit', '-a', 'Jane <j@x>', '-m', 'the message',
      '-c', 'CMD ["sh", "-c", "cat /a/b/c"]', '-c', 'ENV A=b', '-c', 'EXPOSE 80', '-c', 'LABEL l=v', '-c', 'VOLUME /v',
      '-c', 'WORKDIR /a', '-c', 'USER 1000', '-c', 'ONBUILD RUN true', '-c', 'ENTRYPOINT ["/bin/env"]',
      'df1', 'committed:1',
    ])
  ).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  const [img] = JSON.parse(await ok(['image', 'inspect', 'committed:1']));
  assert.equal(img.Id, id);
  assert.equal(img.Author, 'Jane <j@x>');
  assert.equal(img.Comment, 'the message');
  assert.deepEqual(img.RepoTags, ['committed:1']);
  const cfg = img.Config;
  assert.deepEqual(cfg.Cmd, ['sh', '-c', 'cat /a/b/c']);
  assert.deepEqual(cfg.Entrypoint, ['/bin/env']);
  assert.ok(cfg.Env.includes('A=b'));
  assert.ok(cfg.Env.some((e: string) => e.startsWith('PATH=')));
  assert.deepEqual(cfg.ExposedPorts, { '80/tcp': {} });
  assert.equal(cfg.Labels.l, 'v');
  assert.deepEqual(Object.keys(cfg.Volumes).sort(), ['/newvol', '/v']);
  assert.equal(cfg.WorkingDir, '/a');
  assert.equal(cfg.User, '1000');
  assert.deepEqual(cfg.OnBuild, ['RUN true']);
  const [base] = JSON.parse(await ok(['image', 'inspect', 'busybox']));
  assert.equal(img.RootFS.Layers.length, base.RootFS.Layers.length + 1);
  assert.deepEqual(img.RootFS.Layers.slice(0, -1), base.RootFS.Layers);
  const history = JSON.parse((await d.api('GET', '/images/committed:1/history')).body);
  assert.equal(history[0].CreatedBy, 'sh -c mkdir -p /a/b; echo x > /a/b/c; rm -rf /home; echo >> /etc/passwd; rm /etc/group; rm -rf /usr; mkdir /usr; touch /usr/z');
  assert.equal(history[0].Comment, 'the message');
  assert.ok(history[0].Size > 0);
  assert.equal(history[1].Id, base.Id);

  // The new image has the container's changes, deletions and the opaque /usr included.
  const out = await ok(['run', '--rm', '--entrypoint', 'sh', 'committed:1', '-c', 'cat /a/b/c; ls /usr; test -e /etc/group || echo nogroup; test -e /home || echo nohome; pwd; id -u']);
  assert.equal(out, 'x\nz\nnogroup\nnohome\n/a\n1000\n');
  assert.match((await d.docker(['commit', '-c', 'RUN true', 'df1'])).stderr, /RUN is not a valid change command/);
  assert.match((await d.docker(['commit', 'nope'])).stderr, /No such container: nope/);
  await ok(['rm', '-v', 'df1']);
  await ok(['rmi', 'committed:1']);
});

test('commit of a running container pauses it and captures its files; empty diff gives an empty layer', async () => {
  await ok(['run', '-d', '--name', 'run1', 'busybox', 'sh', '-c', 'echo live > /live; sleep 300']);
  await new Promise((r) => setTimeout(r, 300));
  const events = d.api('GET', `/events?since=${Math.floor(Date.now() / 1000) - 1}&until=${Math.floor(Date.now() / 1000) + 4}&filters=${encodeURIComponent('{"container":["run1"]}')}`);
  const id = (await ok(['commit', 'run1', 'live:img'])).trim();
  assert.equal(await ok(['inspect', '-f', '{{.State.Status}}', 'run1']), 'running\n');
  assert.equal(await ok(['run', '--rm', 'live:img', 'cat', '/live']), 'live\n');
  const actions = (await events).body.split('\n').filter(Boolean).map((l) => JSON.parse(l).Action);
  assert.deepEqual(actions.filter((a: string) => ['pause', 'unpause', 'commit'].includes(a)), ['pause', 'unpause', 'commit']);
  const imageEvents = await d.api('GET', `/events?since=${Math.floor(Date.now() / 1000) - 5}&until=${Math.floor(Date.now() / 1000)}&filters=${encodeURIComponent('{"type":["image"]}')}`);
  const imgActions = imageEvents.body.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.id === id || e.Actor?.ID === id).map((e) => e.Action);
  assert.deepEqual(imgActions, ['create', 'tag']);
  // --pause=false leaves it running throughout.
  await ok(['commit', '--pause=false', 'run1']);
  await ok(['rm', '-f', 'run1']);
  await ok(['rmi', id]);

  await ok(['create', '--name', 'fresh', 'busybox', 'true']);
  const emptyId = (await ok(['commit', 'fresh'])).trim();
  const [img] = JSON.parse(await ok(['image', 'inspect', emptyId]));
  const [base] = JSON.parse(await ok(['image', 'inspect', 'busybox']));
  assert.deepEqual(img.RootFS.Layers, base.RootFS.Layers);
  const history = JSON.parse((await d.api('GET', `/images/${emptyId}/history`)).body);
  assert.equal(history[0].Size, 0);
  assert.equal(history[0].CreatedBy, 'true');
  const berth = await d.berth(['commit', '-m', 'b', 'fresh', 'viaberth']);
  assert.equal(berth.code, 0, berth.stderr);
  assert.match(berth.stdout, /^sha256:[0-9a-f]{64}\n$/);
  await ok(['rm', 'fresh']);
  await ok(['rmi', emptyId, 'viaberth']);
});
