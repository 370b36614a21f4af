import type { Engine } from '../../daemon/engine';
import type { NetworkCreateBody } from '../../engine/network/manager';
import type { EndpointSettingsIn } from '../../engine/network/types';
import { invalidParameter } from '../../util/errors';
import { boolParam, filtersParam } from '../http/query';
import type { Router } from '../http/router';

/** /networks: create, list, inspect, remove, prune, connect and disconnect (thin adapters to the NetworkManager). */
export function registerNetworkRoutes(r: Router, engine: Engine): void {
  const nets = () => engine.networks;

  r.get('/networks', (ctx) => ctx.sendJson(200, nets().list(filtersParam(ctx.query))));

  r.post('/networks/create', async (ctx) => {
    const body = await ctx.json<NetworkCreateBody>();
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidParameter('invalid JSON: network config must be an object');
    ctx.sendJson(201, await nets().create(body));
  });

  r.post('/networks/prune', async (ctx) => ctx.sendJson(200, await nets().prune(filtersParam(ctx.query))));

  r.get('/networks/{id}', (ctx) => {
    boolParam(ctx.query, 'verbose');
    ctx.sendJson(200, nets().inspect(nets().get(ctx.param('id'))));
  });

  r.delete('/networks/{id}', async (ctx) => {
    await nets().delete(ctx.param('id'));
    ctx.sendStatus(204);
  });

  r.post('/networks/{id}/connect', async (ctx) => {
    const body = await ctx.json<{ Container?: string; EndpointConfig?: EndpointSettingsIn | null }>();
    if (!body?.Container) throw invalidParameter('no container specified');
    await nets().connect(ctx.param('id'), body.Container, body.EndpointConfig ?? {});
    ctx.sendStatus(200);
  });

  r.post('/networks/{id}/disconnect', async (ctx) => {
    const body = await ctx.json<{ Container?: string; Force?: boolean }>();
    if (!body?.Container) throw invalidParameter('no container specified');
    await nets().disconnect(ctx.param('id'), body.Container, Boolean(body.Force));
    ctx.sendStatus(200);
  });
}
