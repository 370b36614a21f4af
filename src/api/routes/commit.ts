/** POST /commit (docker commit). */
import type { Engine } from '../../daemon/engine';
import type { ContainerConfig } from '../../engine/containers/types';
import { invalidParameter } from '../../util/errors';
import { boolParam } from '../http/query';
import type { Router } from '../http/router';

export function registerCommitRoutes(r: Router, engine: Engine): void {
  r.post('/commit', async (ctx) => {
    const q = ctx.query;
    const container = q.get('container') ?? '';
    if (!container) throw invalidParameter('No container name or ID supplied');
    const raw = await ctx.rawBody();
    let config: Partial<ContainerConfig> | null = null;
    if (raw.length && raw.toString().trim() !== 'null') config = await ctx.json<Partial<ContainerConfig>>();
    const id = await engine.commits.commit(container, {
      repo: q.get('repo') || undefined,
      tag: q.get('tag') || undefined,
      author: q.get('author') ?? '',
      comment: q.get('comment') ?? '',
      changes: q.getAll('changes'),
      pause: boolParam(q, 'pause', true),
      config,
    });
    ctx.sendJson(201, { Id: id });
  });
}
