import type { Engine } from '../../daemon/engine';
import { boolParam, filtersParam } from '../http/query';
import type { Router } from '../http/router';
import { errorMessage, notFound } from '../../util/errors';

export function registerImageRoutes(r: Router, engine: Engine): void {
  const images = engine.images;

  r.get('/images/json', (ctx) => {
    ctx.sendJson(200, images.list({ all: boolParam(ctx.query, 'all'), filters: filtersParam(ctx.query) }));
  });

  r.get('/images/{name*}/json', (ctx) => ctx.sendJson(200, images.inspect(ctx.param('name'))));

  r.post('/images/create', async (ctx) => {
    const q = ctx.query;
    const fromSrc = q.get('fromSrc');
    if (fromSrc === null) {
      const ref = q.get('fromImage') ?? '';
      throw notFound(`pull access denied for ${ref}, repository does not exist or may require 'docker login': this engine cannot reach a registry yet`);
    }
    if (fromSrc !== '-') throw notFound(`importing from a URL is not supported: ${fromSrc}`);
    ctx.startStream('application/json');
    try {
      const id = await images.importImage(ctx.req, {
        repo: q.get('repo') || undefined,
        tag: q.get('tag') || undefined,
        message: q.get('message') || undefined,
        changes: q.getAll('changes'),
      });
      ctx.res.end(JSON.stringify({ status: id }) + '\r\n');
      engine.events.publish('image', 'import', id, {});
    } catch (err) {
      const message = errorMessage(err);
      ctx.res.end(JSON.stringify({ errorDetail: { message }, error: message }) + '\r\n');
    }
  });
}
