/** /volumes: create, list, inspect, remove, prune (local driver). */
import type { Engine } from '../../daemon/engine';
import { invalidParameter } from '../../util/errors';
import { boolParam, filtersParam } from '../http/query';
import type { Router } from '../http/router';

export function registerVolumeRoutes(r: Router, engine: Engine): void {
  const volumes = () => engine.volumes;

  r.post('/volumes/create', async (ctx) => {
    const body = await ctx.json<Record<string, unknown>>({});
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidParameter('invalid JSON: body must be an object');
    const v = volumes().create({
      Name: typeof body.Name === 'string' ? body.Name : undefined,
      Driver: typeof body.Driver === 'string' ? body.Driver : undefined,
      DriverOpts: (body.DriverOpts as Record<string, string> | null) ?? null,
      Labels: (body.Labels as Record<string, string> | null) ?? null,
    });
    ctx.sendJson(201, volumes().view(v));
  });

  r.get('/volumes', (ctx) => ctx.sendJson(200, volumes().list(filtersParam(ctx.query))));

  r.post('/volumes/prune', (ctx) => ctx.sendJson(200, volumes().prune(filtersParam(ctx.query))));

  r.get('/volumes/{name}', (ctx) => ctx.sendJson(200, volumes().inspect(ctx.param('name'))));

  r.delete('/volumes/{name}', (ctx) => {
    volumes().remove(ctx.param('name'), boolParam(ctx.query, 'force'));
    ctx.sendStatus(204);
  });
}
