/** HEAD/GET/PUT /containers/{id}/archive (docker cp) and GET /containers/{id}/changes (docker diff). */
import type { Engine } from '../../daemon/engine';
import type { PathStat } from '../../engine/containers/archive';
import { boolParam } from '../http/query';
import { commonHeaders } from '../http/context';
import type { Router } from '../http/router';

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function statHeader(stat: PathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
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

  r.get('/containers/{id}/changes', async (ctx) => {
    ctx.sendJson(200, await engine.commits.changes(ctx.param('id')));
  });
}
