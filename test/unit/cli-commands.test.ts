import { test } from 'node:test';
import assert from 'node:assert/strict';
import { berth, withDaemon } from './cli-harness';
import { encodeFrame } from '../../src/client/streams';
import { acceptUpgrade, FakeDaemon, sendError, sendJSON } from '../../src/client/testing/fake-daemon';

const ID = 'c5a8a35b81469febe2d8210e0361543ddc8c99329bf0529c30472483f0b01ffc';


const now = () => Math.floor(Date.now() / 1000);

function containers() {
  return [
    {
      Id: '1b9d0e88e2645a06a85543b80020277eb6ba7b18c9b9c6cb89dcb4fc158d422c',
      Names: ['/xweb'],
      Image: 'busybox:local',
      ImageID: 'sha256:6fdd06ba563dde310af76d8499d69911157a22a448ed61573111e8c78084250b',
      Command: 'httpd -f -p 80',
      Created: now() - 800,
      Ports: [
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      ],
      Labels: {},
      State: 'running',
      Status: 'Up 13 minutes',
    },
    {
      Id: 'aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999',
      Names: ['/other'],
      Image: 'docker.io/library/nginx:latest',
      ImageID: 'sha256:bbbb',
      Command: 'sh -c \'echo "hello world with a long command"\'',
      Created: now() - 3 * 86400,
      Ports: [],
      Labels: null,
      State: 'exited',
      Status: 'Exited (0) 2 days ago',
    },
  ];
}

test('ps prints docker\'s table', async () => {
  await withDaemon(async (d) => {
    d.on('GET', '/containers/json', (_req, res) => sendJSON(res, 200, containers()));
    const r = await berth(d, ['ps', '-a']);
    assert.equal(r.code, 0);
    assert.equal(
      r.out,
      'CONTAINER ID   IMAGE           COMMAND                   CREATED          STATUS                  PORTS                                     NAMES\n' +
        '1b9d0e88e264   busybox:local   "httpd -f -p 80"          13 minutes ago   Up 13 minutes           0.0.0.0:8080->80/tcp, [::]:8080->80/tcp   xweb\n' +
        'aaaabbbbcccc   nginx:latest    "sh -c \'echo \\"hello …"   3 days ago       Exited (0) 2 days ago                                             other\n',
    );
    assert.deepEqual(d.calls(), ['GET /containers/json?all=1']);
  });
});

test('ps -q, --no-trunc, -n, --filter and --format', async () => {
  await withDaemon(async (d) => {
    d.on('GET', '/containers/json', (_req, res) => sendJSON(res, 200, containers()));
    assert.equal((await berth(d, ['ps', '-q'])).out, '1b9d0e88e264\naaaabbbbcccc\n');
    assert.equal((await berth(d, ['ps', '-q', '--no-trunc'])).out.split('\n')[0], containers()[0].Id);
    const f = await berth(d, ['ps', '--format', '{{.ID}}: {{.Names}}']);
    assert.equal(f.out, '1b9d0e88e264: xweb\naaaabbbbcccc: other\n');
    const t = await berth(d, ['ps', '--format', 'table {{.Names}}\\t{{.Status}}']);
    assert.equal(t.out, 'NAMES     STATUS\nxweb      Up 13 minutes\nother     Exited (0) 2 days ago\n');
    const w = await berth(d, ['ps', '-q', '--format', '{{.Names}}']);
    assert.equal(w.err, 'WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
    await berth(d, ['ps', '-n', '2', '--filter', 'name=xweb', '-s']);
    assert.equal(d.calls().at(-1), 'GET /containers/json?filters={"name":{"xweb":true}}&limit=2&size=1');
  });
});

test('images table with dangling images', async () => {
  await withDaemon(async (d) => {
    d.on('GET', '/images/json', (_req, res) =>
      sendJSON(res, 200, [
        { Id: 'sha256:6fdd06ba563dde310af76d8499d69911157a22a448ed61573111e8c78084250b', ParentId: '', RepoTags: ['busybox:local'], RepoDigests: [], Created: now() - 86400 * 40, Size: 4261550, SharedSize: -1, Labels: null, Containers: -1 },
        { Id: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', ParentId: '', RepoTags: [], RepoDigests: [], Created: now() - 7200, Size: 12345, SharedSize: -1, Labels: null, Containers: -1 },
      ]),
    );
    const r = await berth(d, ['images']);
    assert.equal(
      r.out,
      'REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n' +
        'busybox      local     6fdd06ba563d   5 weeks ago   4.26MB\n' +
        '<none>       <none>    0123456789ab   2 hours ago   12.3kB\n',
    );
  });
});

test('run follows docker\'s sequence: create, attach, wait, start; exits with the wait status', async () => {
  await withDaemon(async (d) => {
    let created: Record<string, unknown> = {};
    d.on('POST', '/containers/create', (req, res) => {
      created = JSON.parse(req.body.toString());
      sendJSON(res, 201, { Id: ID, Warnings: [] });
    });
    let release!: () => void;
    d.onUpgrade(`/containers/${ID}/attach`, (_req, socket) => {
      acceptUpgrade(socket);
      release = () => {
        socket.write(encodeFrame(1, 'out\n'));
        socket.write(encodeFrame(2, 'err\n'));
        socket.end();
      };
    });
    d.on('POST', `/containers/${ID}/wait`, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      setTimeout(() => res.end('{"StatusCode":3}\n'), 50);
    });
    d.on('POST', `/containers/${ID}/start`, (_req, res) => {
      res.writeHead(204);
      res.end();
      release();
    });
    const r = await berth(d, ['run', '--rm', '-e', 'A=1', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.out, 'out\n');
    assert.equal(r.err, 'err\n');
    assert.deepEqual(d.calls(), [
      'POST /containers/create',
      `POST /containers/${ID}/attach?stderr=1&stdout=1&stream=1`,
      `POST /containers/${ID}/wait?condition=removed`,
      `POST /containers/${ID}/start`,
    ]);
    assert.deepEqual(created.Cmd, ['sh', '-c', 'exit 3']);
    assert.deepEqual(created.Env, ['A=1']);
    assert.equal(created.Image, 'busybox');
    assert.equal((created.HostConfig as Record<string, unknown>).AutoRemove, true);
    assert.equal(created.AttachStdin, false);
  });
});

test('run -i pipes stdin and half-closes', async () => {
  await withDaemon(async (d) => {
    d.on('POST', '/containers/create', (_req, res) => sendJSON(res, 201, { Id: ID, Warnings: [] }));
    d.onUpgrade(`/containers/${ID}/attach`, (_req, socket) => {
      acceptUpgrade(socket);
      const chunks: Buffer[] = [];
      socket.on('data', (b: Buffer) => chunks.push(b));
      socket.on('end', () => {
        socket.write(encodeFrame(1, Buffer.concat(chunks)));
        socket.end();
      });
    });
    d.on('POST', `/containers/${ID}/wait`, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      setTimeout(() => res.end('{"StatusCode":0}\n'), 50);
    });
    d.on('POST', `/containers/${ID}/start`, (_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const r = await berth(d, ['run', '-i', 'busybox', 'cat'], 'line1\nline2\n');
    assert.equal(r.code, 0);
    assert.equal(r.out, 'line1\nline2\n');
    assert.equal(d.calls()[1], `POST /containers/${ID}/attach?stderr=1&stdin=1&stdout=1&stream=1`);
  });
});

test('run -d prints the ID after create, wait and start', async () => {
  await withDaemon(async (d) => {
    d.on('POST', '/containers/create', (_req, res) => sendJSON(res, 201, { Id: ID, Warnings: ['w1'] }));
    d.on('POST', `/containers/${ID}/wait`, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
    });
    d.on('POST', `/containers/${ID}/start`, (_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const r = await berth(d, ['run', '-d', '--name', 'web', '-p', '8080:80', 'busybox']);
    assert.equal(r.code, 0);
    assert.equal(r.out, `${ID}\n`);
    assert.equal(r.err, 'WARNING: w1\n');
    assert.deepEqual(d.calls(), [
      'POST /containers/create?name=web',
      `POST /containers/${ID}/wait?condition=next-exit`,
      `POST /containers/${ID}/start`,
    ]);
    const body = JSON.parse(d.requests.find((q) => q.path === '/containers/create')?.body.toString() ?? '{}');
    assert.deepEqual(body.ExposedPorts, { '80/tcp': {} });
    assert.deepEqual(body.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
  });
});

test('a 409 on create: run exits 125 with docker\'s message, create exits 1', async () => {
  await withDaemon(async (d) => {
    const msg = 'Conflict. The container name "/web" is already in use by container "abc". You have to remove (or rename) that container to be able to reuse that name.';
    d.on('POST', '/containers/create', (_req, res) => sendError(res, 409, msg));
    const r = await berth(d, ['run', '--name', 'web', 'busybox']);
    assert.equal(r.code, 125);
    assert.equal(r.err, `berth: Error response from daemon: ${msg}\n\nRun 'berth run --help' for more information\n`);
    const c = await berth(d, ['create', '--name', 'web', 'busybox']);
    assert.equal(c.code, 1);
    assert.equal(c.err, `Error response from daemon: ${msg}\n`);
  });
});

test('run pulls on 404 and retries the create', async () => {
  await withDaemon(async (d) => {
    let creates = 0;
    d.on('POST', '/containers/create', (_req, res) => {
      creates++;
      if (creates === 1) sendError(res, 404, 'No such image: busybox:latest');
      else sendJSON(res, 201, { Id: ID, Warnings: [] });
    });
    d.on('POST', '/images/create', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"status":"Pulling from library/busybox","id":"latest"}\r\n');
      res.write('{"status":"Downloading","progressDetail":{"current":1,"total":10},"progress":"[>  ]","id":"abc"}\r\n');
      res.write('{"status":"Pull complete","progressDetail":{},"id":"abc"}\r\n');
      res.end('{"status":"Status: Downloaded newer image for busybox:latest"}\r\n');
    });
    d.on('POST', `/containers/${ID}/wait`, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
    });
    d.on('POST', `/containers/${ID}/start`, (_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const r = await berth(d, ['run', '-d', 'busybox']);
    assert.equal(r.code, 0);
    assert.equal(
      r.err,
      "Unable to find image 'busybox:latest' locally\nlatest: Pulling from library/busybox\nabc: Pull complete\nStatus: Downloaded newer image for busybox:latest\n",
    );
    assert.equal(d.calls()[1], 'POST /images/create?fromImage=docker.io/library/busybox&tag=latest');
    assert.equal(d.requests.find((q) => q.path === '/images/create')?.headers['x-registry-auth'], 'e30=');
  });
});

test('run maps start errors to 127/126/125', async () => {
  await withDaemon(async (d) => {
    let startError = '';
    d.on('POST', '/containers/create', (_req, res) => sendJSON(res, 201, { Id: ID, Warnings: [] }));
    d.onUpgrade(`/containers/${ID}/attach`, (_req, socket) => {
      acceptUpgrade(socket);
      socket.on('end', () => undefined);
    });
    d.on('POST', `/containers/${ID}/wait`, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
    });
    d.on('POST', `/containers/${ID}/start`, (_req, res) => sendError(res, 400, startError));
    startError = 'exec: "nope": executable file not found in $PATH: unknown';
    let r = await berth(d, ['run', 'busybox', 'nope']);
    assert.equal(r.code, 127);
    assert.equal(r.err, `berth: Error response from daemon: ${startError}\n\nRun 'berth run --help' for more information\n`);
    startError = 'exec: "/etc": permission denied: unknown';
    r = await berth(d, ['run', 'busybox', '/etc']);
    assert.equal(r.code, 126);
    startError = 'something else';
    r = await berth(d, ['run', 'busybox']);
    assert.equal(r.code, 125);
  });
});

test('flag and argument errors', async () => {
  await withDaemon(async (d) => {
    let r = await berth(d, ['run', '--x']);
    assert.equal(r.code, 125);
    assert.equal(r.err, "unknown flag: --x\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n");
    r = await berth(d, ['run']);
    assert.equal(r.code, 1);
    assert.equal(r.err, "berth: 'berth run' requires at least 1 argument\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'berth run --help' for more information\n");
    r = await berth(d, ['ps', 'x']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^berth: 'berth ps' accepts no arguments\n/);
    r = await berth(d, ['run', '--rm', '--restart', 'always', 'busybox']);
    assert.equal(r.code, 125);
    assert.equal(r.err, "berth: conflicting options: cannot specify both --restart and --rm\n\nRun 'berth run --help' for more information\n");
    r = await berth(d, ['run', '-it', 'busybox']);
    assert.equal(r.code, 1);
    assert.equal(r.err, 'the input device is not a TTY\n');
    r = await berth(d, ['nope']);
    assert.equal(r.code, 1);
    assert.equal(r.err, "berth: unknown command: berth nope\n\nRun 'berth --help' for more information\n");
    assert.deepEqual(d.calls(), []);
  });
});

test('help output follows docker\'s layout', async () => {
  await withDaemon(async (d) => {
    const r = await berth(d, ['logs', '--help']);
    assert.equal(r.code, 0);
    assert.equal(
      r.out,
      'Usage:  berth logs [OPTIONS] CONTAINER\n\nFetch the logs of a container\n\nAliases:\n  berth container logs, berth logs\n\n' +
        'Options:\n' +
        '      --details        Show extra details provided to logs\n' +
        '  -f, --follow         Follow log output\n' +
        '      --since string   Show logs since timestamp (e.g.\n' +
        '                       "2013-01-02T13:23:37Z") or relative (e.g. "42m"\n' +
        '                       for 42 minutes)\n' +
        '  -n, --tail string    Number of lines to show from the end of the logs\n' +
        '                       (default "all")\n' +
        '  -t, --timestamps     Show timestamps\n' +
        '      --until string   Show logs before a timestamp (e.g.\n' +
        '                       "2013-01-02T13:23:37Z") or relative (e.g. "42m"\n' +
        '                       for 42 minutes)\n',
    );
  });
});

test('logs inspects first, then demultiplexes', async () => {
  await withDaemon(async (d) => {
    d.on('GET', '/containers/web/json', (_req, res) => sendJSON(res, 200, { Id: ID, Config: { Tty: false }, HostConfig: {} }));
    d.on('GET', `/containers/${ID}/logs`, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
      res.write(encodeFrame(1, 'a\n'));
      res.end(encodeFrame(2, 'b\n'));
    });
    const r = await berth(d, ['logs', '--tail', '2', '-f', 'web']);
    assert.equal(r.out, 'a\n');
    assert.equal(r.err, 'b\n');
    assert.deepEqual(d.calls(), ['GET /containers/web/json', `GET /containers/${ID}/logs?follow=1&stderr=1&stdout=1&tail=2`]);
  });
});

test('rm, stop and wait report per-container results', async () => {
  await withDaemon(async (d) => {
    d.on('DELETE', '/containers/*', (req, res) => {
      if (req.path.endsWith('/nope')) return sendError(res, 404, 'No such container: nope');
      res.writeHead(204);
      res.end();
    });
    let r = await berth(d, ['rm', '-f', 'a', 'nope', 'b']);
    assert.equal(r.code, 0);
    assert.equal(r.out, 'a\nb\n');
    assert.equal(r.err, 'Error response from daemon: No such container: nope\n');
    r = await berth(d, ['rm', 'nope']);
    assert.equal(r.code, 1);
    assert.equal(r.err, 'Error response from daemon: No such container: nope\n');
    d.on('POST', '/containers/*/wait', (_req, res) => sendJSON(res, 200, { StatusCode: 4 }));
    r = await berth(d, ['wait', 'a']);
    assert.equal(r.out, '4\n');
  });
});

test('inspect falls through object types and prints indented raw JSON', async () => {
  await withDaemon(async (d) => {
    d.on('GET', '/images/busybox/json', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"Id":"sha256:abc","RepoTags":["busybox:latest"],"Config":{}}\n');
    });
    d.on('GET', '/info', (_req, res) => sendJSON(res, 200, { Swarm: { ControlAvailable: false } }));
    let r = await berth(d, ['inspect', 'busybox']);
    assert.equal(r.code, 0);
    assert.equal(r.out, '[\n    {\n        "Id": "sha256:abc",\n        "RepoTags": [\n            "busybox:latest"\n        ],\n        "Config": {}\n    }\n]\n');
    r = await berth(d, ['inspect', 'nothing']);
    assert.equal(r.code, 1);
    assert.equal(r.out, '[]\n');
    assert.equal(r.err, 'Error: No such object: nothing\n');
    assert.deepEqual(d.calls().slice(-6), [
      'GET /containers/nothing/json',
      'GET /images/nothing/json',
      'GET /networks/nothing',
      'GET /volumes/nothing',
      'GET /info',
      'GET /plugins/nothing/json',
    ]);
  });
});

test('import streams the tarball and prints the status', async () => {
  await withDaemon(async (d) => {
    d.on('POST', '/images/create', (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`{"status":"sha256:${'a'.repeat(64)}"}\r\n`);
      assert.equal(req.body.toString(), 'TARDATA');
    });
    const r = await berth(d, ['import', '-c', 'ENV A=1', '--change', 'CMD ["sh"]', '-m', 'hi', '-', 'mytest/imported:1'], 'TARDATA');
    assert.equal(r.code, 0);
    assert.equal(r.out, `sha256:${'a'.repeat(64)}\n`);
    assert.equal(
      d.requests.find((q) => q.path === '/images/create')?.url,
      '/v1.50/images/create?changes=ENV+A%3D1&changes=CMD+%5B%22sh%22%5D&fromSrc=-&message=hi&repo=mytest%2Fimported%3A1',
    );
  });
});

test('version prints client and server sections', async () => {
  await withDaemon(async (d) => {
    d.on('GET', '/version', (_req, res) =>
      sendJSON(res, 200, {
        Platform: { Name: 'Berth Engine' },
        Components: [{ Name: 'Engine', Version: '0.1.0', Details: { ApiVersion: '1.50', MinAPIVersion: '1.24', GoVersion: 'node', GitCommit: 'abc', BuildTime: '2025-05-30T12:07:14.000000000+00:00', Os: 'linux', Arch: 'amd64', Experimental: 'false' } }],
        Version: '0.1.0',
        ApiVersion: '1.50',
      }),
    );
    const r = await berth(d, ['version']);
    assert.equal(r.code, 0);
    const server = r.out.slice(r.out.indexOf('Server:'));
    assert.match(server, /^Server: Berth Engine\n Engine:\n  Version:          0\.1\.0\n  API version:      1\.50 \(minimum version 1\.24\)\n  Go version:       node\n  Git commit:       abc\n  Built:            \w{3} May 30 \d\d:07:14 2025\n  OS\/Arch:          linux\/amd64\n  Experimental:     false\n$/);
    assert.match(r.out, /^Client:\n Version:           0\.1\.0\n API version:       1\.50\n/);
  });
});
