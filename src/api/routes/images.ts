import type { Engine } from '../../daemon/engine';
import { boolParam, filtersParam } from '../http/query';
import type { Router } from '../http/router';
import { errorMessage, notFound } from '../../util/errors';

export function registerImageRoutes(r: Router, engine: Engine): void {
  const images = engine.images;

  r.get('/images/json', (ctx) => {
    ctx.sendJson(200, images.list({ all: boolParam(ctx.query, 'all'), filters: filtersParam(ctx.query), sharedSize: boolParam(ctx.query, 'shared-size') }));
  });

  r.get('/images/get', (ctx) => save(ctx, ctx.query.getAll('names')));
  r.post('/images/load', async (ctx) => {
    const quiet = boolParam(ctx.query, 'quiet', true);
    ctx.startStream('application/json');
    const send = (m: object): void => void ctx.res.write(JSON.stringify(m) + '\r\n');
    try {
      await images.load(ctx.req, { quiet }, send);
    } catch (err) {
      const message = errorMessage(err);
      send({ errorDetail: { message }, error: message });
      ctx.req.resume(); // let the rest of the upload drain
    }
    ctx.res.end();
  });
  r.post('/images/prune', async (ctx) => ctx.sendJson(200, await images.prune(filtersParam(ctx.query))));

  r.get('/images/{name*}/json', (ctx) => ctx.sendJson(200, images.inspect(ctx.param('name'))));
  r.get('/images/{name*}/history', (ctx) => ctx.sendJson(200, images.history(ctx.param('name'))));
  r.get('/images/{name*}/get', (ctx) => save(ctx, [ctx.param('name')]));
  r.post('/images/{name*}/tag', async (ctx) => {
    await images.tag(ctx.param('name'), ctx.query.get('repo') ?? '', ctx.query.get('tag') || undefined);
    ctx.sendStatus(201);
  });
  r.delete('/images/{name*}', async (ctx) => {
    const records = await images.remove(ctx.param('name'), {
      force: boolParam(ctx.query, 'force'),
      noprune: boolParam(ctx.query, 'noprune'),
    });
    ctx.sendJson(200, records);
  });

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

  /** Names are checked before the 200 goes out; a failure after that can only cut the stream. */
  async function save(ctx: Parameters<Parameters<Router['get']>[1]>[0], names: string[]): Promise<void> {
    images.resolveForSave(names);
    ctx.startStream('application/x-tar');
    try {
      await images.save(names, ctx.res);
    } catch {
      ctx.res.destroy();
    }
  }
}
