/** HEAD/GET/PUT /containers/{id}/archive (docker cp) and GET /containers/{id}/changes (docker diff). */
import type { Engine } from '../../daemon/engine';
import type { PathStat } from '../../engine/containers/archive';
import { invalidParameter } from '../../util/errors';
import { boolParam } from '../http/query';
import { commonHeaders } from '../http/context';
import type { Router } from '../http/router';

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function statHeader(stat: PathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

interface LocalCopyBody {
  /** in: from the client's tree into the container directory Path; out: from the container's Path into the client's directory. */
  Direction: 'in' | 'out';
  Path: string;
  /** The name the copied tree's top gets ('.' for a directory's contents). */
  Name: string;
  Client: unknown;
  NoOverwriteDirNonDir?: boolean;
  CopyUIDGID?: boolean;
}

export function registerArchiveRoutes(r: Router, engine: Engine): void {
  r.head('/containers/{id}/archive', async (ctx) => {
    const stat = await engine.archive.stat(ctx.param('id'), ctx.query.get('path') ?? '');
    ctx.res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/json', [STAT_HEADER]: statHeader(stat), 'Content-Length': 0 });
    ctx.res.end();
  });

  r.get('/containers/{id}/archive', async (ctx) => {
    await engine.archive.get(ctx.param('id'), ctx.query.get('path') ?? '', (stat) => {
      ctx.res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/x-tar', [STAT_HEADER]: statHeader(stat) });
      return ctx.res;
    });
  });

  r.get('/containers/{id}/export', async (ctx) => {
    await engine.archive.export(ctx.param('id'), () => {
      ctx.res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/x-tar' });
      return ctx.res;
    });
  });

  r.put('/containers/{id}/archive', async (ctx) => {
    await engine.archive.put(ctx.param('id'), ctx.query.get('path') ?? '', ctx.req, {
      noOverwriteDirNonDir: boolParam(ctx.query, 'noOverwriteDirNonDir'),
      copyUIDGID: boolParam(ctx.query, 'copyUIDGID'),
    });
    ctx.sendStatus(200);
  });

  // Berth's own: berth cp with a daemon on the same machine (engine/containers/local-copy.ts).
  r.post('/containers/{id}/archive/local', async (ctx) => {
    const body = await ctx.json<LocalCopyBody>();
    if (body?.Direction !== 'in' && body?.Direction !== 'out') throw invalidParameter('Direction must be "in" or "out"');
    if (typeof body.Path !== 'string' || typeof body.Name !== 'string' || body.Name === '') throw invalidParameter('Path and Name are required');
    await engine.archive.copyLocal(ctx.param('id'), {
      direction: body.Direction,
      path: body.Path,
      name: body.Name,
      client: body.Client,
      noOverwriteDirNonDir: body.NoOverwriteDirNonDir === true,
      copyUIDGID: body.CopyUIDGID === true,
    });
    ctx.sendStatus(204);
  });

  r.get('/containers/{id}/changes', async (ctx) => {
    ctx.sendJson(200, await engine.commits.changes(ctx.param('id')));
  });
}
