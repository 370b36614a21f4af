/** GET /containers/{id}/top?ps_args=… */
import type { Engine } from '../../daemon/engine';
import type { Router } from '../http/router';

export function registerTopRoutes(r: Router, engine: Engine): void {
  r.get('/containers/{id}/top', async (ctx) => {
    ctx.sendJson(200, await engine.top(ctx.param('id'), ctx.query.get('ps_args') ?? ''));
  });
}
