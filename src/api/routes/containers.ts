import type { Engine } from '../../daemon/engine';
import { EngineError, invalidParameter } from '../../util/errors';
import { boolParam, filtersParam, intParam } from '../http/query';
import type { Router } from '../http/router';
import type { CreateBody } from '../../engine/containers/create-config';
import type { WaitCondition } from '../../engine/containers/service';
import { parseTimeParam } from './system';
import { connectionSink, encodeOutput, streamMediaType } from './streams';



export function registerContainerRoutes(r: Router, engine: Engine): void {
  const containers = engine.containers;

  r.post('/containers/create', async (ctx) => {
    const body = await ctx.json<CreateBody>();
    const name = ctx.query.get('name') ?? undefined;
    ctx.sendJson(201, await containers.create(body, name || undefined));
  });

  r.get('/containers/json', (ctx) => {
    ctx.sendJson(
      200,
      containers.list({
        all: boolParam(ctx.query, 'all'),
        limit: intParam(ctx.query, 'limit'),
        size: boolParam(ctx.query, 'size'),
        filters: filtersParam(ctx.query),
      }),
    );
  });

  r.get('/containers/{id}/json', (ctx) => ctx.sendJson(200, containers.inspect(ctx.param('id'), { size: boolParam(ctx.query, 'size') })));

  r.post('/containers/{id}/start', async (ctx) => {
    await containers.start(ctx.param('id'));
    ctx.sendStatus(204);
  });

  r.post('/containers/{id}/stop', async (ctx) => {
    await containers.stop(ctx.param('id'), intParam(ctx.query, 't'), ctx.query.get('signal') ?? undefined);
    ctx.sendStatus(204);
  });

  r.post('/containers/{id}/restart', async (ctx) => {
    await containers.restart(ctx.param('id'), intParam(ctx.query, 't'), ctx.query.get('signal') ?? undefined);
    ctx.sendStatus(204);
  });

  r.post('/containers/{id}/kill', async (ctx) => {
    await containers.kill(ctx.param('id'), ctx.query.get('signal') || 'SIGKILL');
    ctx.sendStatus(204);
  });

  r.post('/containers/prune', async (ctx) => {
    ctx.sendJson(200, await containers.prune(filtersParam(ctx.query)));
  });

  r.post('/containers/{id}/update', async (ctx) => {
    const body = await ctx.json<Record<string, unknown>>();
    ctx.sendJson(200, await containers.update(ctx.param('id'), body));
  });

  r.post('/containers/{id}/pause', async (ctx) => {
    await containers.pause(ctx.param('id'));
    ctx.sendStatus(204);
  });

  r.post('/containers/{id}/unpause', async (ctx) => {
    await containers.unpause(ctx.param('id'));
    ctx.sendStatus(204);
  });

  r.post('/containers/{id}/rename', (ctx) => {
    containers.rename(ctx.param('id'), ctx.query.get('name') ?? '');
    ctx.sendStatus(204);
  });

  r.delete('/containers/{id}', async (ctx) => {
    await containers.remove(ctx.param('id'), { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') });
    ctx.sendStatus(204);
  });

  r.post('/containers/{id}/wait', async (ctx) => {
    const condition = (ctx.query.get('condition') || 'not-running') as WaitCondition;
    const abort = new AbortController();
    const result = containers.wait(ctx.param('id'), condition, abort.signal);
    ctx.startStream('application/json');
    ctx.onClientGone(() => abort.abort());
    try {
      const body = await result;
      ctx.res.end(JSON.stringify(body) + '\n');
    } catch {
      ctx.res.destroy();
    }
  });

  r.post('/containers/{id}/resize', (ctx) => {
    const h = intParam(ctx.query, 'h', 0)!;
    const w = intParam(ctx.query, 'w', 0)!;
    if (h < 0 || w < 0) throw invalidParameter('invalid resize dimensions');
    containers.resize(ctx.param('id'), h, w);
    ctx.sendStatus(200);
  });

  r.post('/containers/{id}/attach', (ctx) => {
    const id = ctx.param('id');
    const c = containers.get(id);
    const tty = c.Config.Tty;
    const q = ctx.query;
    const opts = {
      stdin: boolParam(q, 'stdin'),
      stdout: boolParam(q, 'stdout'),
      stderr: boolParam(q, 'stderr'),
      stream: boolParam(q, 'stream'),
      logs: boolParam(q, 'logs'),
      detachKeys: q.get('detachKeys') ?? undefined,
    };
    // Validate before hijacking so errors come back as ordinary HTTP errors.
    containers.checkAttachable(id, opts.detachKeys);
    const conn = ctx.hijack(streamMediaType(ctx, tty));
    const session = containers.attach(id, opts, connectionSink(conn, tty));
    conn.readInput(
      (d) => session.pushStdin(d),
      () => session.endStdin(),
    );
    conn.onClose(() => containers.detachSession(id, session));
  });

  r.get('/containers/{id}/logs', async (ctx) => {
    const q = ctx.query;
    const id = ctx.param('id');
    const c = containers.get(id);
    const stdout = boolParam(q, 'stdout');
    const stderr = boolParam(q, 'stderr');
    if (!stdout && !stderr) throw invalidParameter('Bad parameters: you must choose at least one stream');
    if (c.HostConfig.LogConfig?.Type === 'none') throw new EngineError(501, 'configured logging driver does not support reading');
    const tailRaw = q.get('tail') ?? 'all';
    const tail = tailRaw === 'all' || tailRaw === '' ? undefined : Number(tailRaw);
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw invalidParameter(`invalid value for "tail": "${tailRaw}"`);
    const since = parseTimeParam(q.get('since'));
    const until = parseTimeParam(q.get('until'));
    const timestamps = boolParam(q, 'timestamps');
    // --details puts the log's extra attributes (none are recorded by Berth) and a space before each line.
    const details = boolParam(q, 'details') ? ' ' : '';
    const tty = c.Config.Tty;
    ctx.startStream(streamMediaType(ctx, tty));
    const abort = new AbortController();
    ctx.onClientGone(() => abort.abort());
    await containers.logs(
      id,
      {
        stdout,
        stderr,
        follow: boolParam(q, 'follow'),
        tail,
        sinceNs: since !== undefined && since > 0 ? BigInt(Math.floor(since)) : undefined,
        untilNs: until !== undefined && until > 0 ? BigInt(Math.floor(until)) : undefined,
      },
      async (rec) => {
        const prefix = (timestamps ? `${rec.timestamp} ` : '') + details;
        const data = prefix ? Buffer.concat([Buffer.from(prefix), rec.data]) : rec.data;
        if (!ctx.res.write(encodeOutput(tty, rec.stream, data))) {
          await new Promise<void>((resolve) => {
            ctx.res.once('drain', resolve);
            abort.signal.addEventListener('abort', () => resolve(), { once: true });
          });
        }
      },
      abort.signal,
    );
    ctx.res.end();
  });
}
