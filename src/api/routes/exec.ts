import type { Engine } from '../../daemon/engine';
import type { ExecCreateBody } from '../../engine/containers/exec';
import { errorMessage, invalidParameter } from '../../util/errors';
import { intParam } from '../http/query';
import type { Router } from '../http/router';
import { connectionSink, encodeOutput, streamMediaType } from './streams';

export function registerExecRoutes(r: Router, engine: Engine): void {
  const execs = engine.execs;

  r.post('/containers/{id}/exec', async (ctx) => {
    const body = await ctx.json<ExecCreateBody>();
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidParameter('invalid JSON: exec config must be an object');
    ctx.sendJson(201, execs.create(ctx.param('id'), body));
  });

  r.get('/exec/{id}/json', (ctx) => ctx.sendJson(200, execs.inspect(ctx.param('id'))));

  r.post('/exec/{id}/resize', (ctx) => {
    execs.resize(ctx.param('id'), intParam(ctx.query, 'h', 0)!, intParam(ctx.query, 'w', 0)!);
    ctx.sendStatus(200);
  });

  r.post('/exec/{id}/start', async (ctx) => {
    const id = ctx.param('id');
    const body = await ctx.json<{ Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }>({});
    const e = execs.checkStartable(id);
    if (body.Detach) {
      await execs.start(id, { detach: true, tty: body.Tty, consoleSize: body.ConsoleSize });
      ctx.sendStatus(200);
      return;
    }
    const tty = body.Tty ?? Boolean(e.body.Tty);
    const conn = ctx.hijack(streamMediaType(ctx, tty));
    let session;
    try {
      session = await execs.start(id, { detach: false, tty, consoleSize: body.ConsoleSize }, connectionSink(conn, tty));
    } catch (err) {
      // The connection is no longer HTTP: like moby, write the error into the stream and close it.
      conn.write(encodeOutput(tty, 'stdout', Buffer.from(`${errorMessage(err)}\r\n`)));
      conn.end();
      return;
    }
    if (!session) return;
    conn.readInput(
      (d) => session.pushStdin(d),
      () => session.endStdin(),
    );
    conn.onClose(() => session.close());
  });
}
