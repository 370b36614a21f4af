import type { Engine } from '../../daemon/engine';
import type { Router } from '../http/router';

export function registerSystemDfRoutes(r: Router, engine: Engine): void {
  r.get('/system/df', (ctx) => {
    const containers = engine.containers.list({ all: true, filters: {} }) as { Id: string; ImageID: string }[];
    ctx.sendJson(200, { ...engine.images.systemDiskUsage(containers), Volumes: engine.volumes.usage() });
  });
}
