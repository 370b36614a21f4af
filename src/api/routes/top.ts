/** GET /containers/{id}/top?ps_args=… */
import type { Engine } from '../../daemon/engine';
import { containerTop } from '../../engine/containers/top';
import { CgroupStatsReader } from '../../engine/runtime/cgroup-stats';
import type { Router } from '../http/router';

export function registerTopRoutes(r: Router, engine: Engine): void {
  const cgroups = new CgroupStatsReader();
  r.get('/containers/{id}/top', async (ctx) => {
    const c = engine.containers.get(ctx.param('id'));
    const list = await containerTop(c, ctx.query.get('ps_args') ?? '', (rec) => cgroups.pids(engine.runtime.cgroupsPath(rec.Id)));
    engine.events.container(c, 'top');
    ctx.sendJson(200, list);
  });
}
