import type { Engine } from '../../daemon/engine';
import { Router } from '../http/router';
import { registerContainerRoutes } from './containers';
import { registerExecRoutes } from './exec';
import { registerImageRoutes } from './images';
import { registerNetworkRoutes } from './networks';
import { registerSystemRoutes } from './system';
import { registerSystemDfRoutes } from './system-df';
import { registerStatsRoutes } from './stats';
import { registerTopRoutes } from './top';
import { registerVolumeRoutes } from './volumes';
import { registerArchiveRoutes } from './archive';
import { registerCommitRoutes } from './commit';

export function buildRouter(engine: Engine): Router {
  const r = new Router();
  registerSystemRoutes(r, engine);
  registerContainerRoutes(r, engine);
  registerExecRoutes(r, engine);
  registerImageRoutes(r, engine);
  registerSystemDfRoutes(r, engine);
  registerNetworkRoutes(r, engine);
  registerStatsRoutes(r, engine);
  registerTopRoutes(r, engine);
  registerVolumeRoutes(r, engine);
  registerArchiveRoutes(r, engine);
  registerCommitRoutes(r, engine);
  return r;
}
