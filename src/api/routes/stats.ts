/** GET /containers/{id}/stats: NDJSON samples (stream=1, headers flushed at once) or one object (stream=0). */
import type { Engine } from '../../daemon/engine';
import { commonHeaders } from '../http/context';
import { boolParam } from '../http/query';
import { compareVersions } from '../http/version';
import type { Router } from '../http/router';

export function registerStatsRoutes(r: Router, engine: Engine): void {
  const stats = engine.stats;

  r.get('/containers/{id}/stats', async (ctx) => {
    const stream = boolParam(ctx.query, 'stream', true);
    // one-shot exists from API 1.41 on; older clients never get it
    const oneShot = compareVersions(ctx.apiVersion, '1.41') >= 0 && boolParam(ctx.query, 'one-shot', false);
    const ref = ctx.param('id');
    engine.containers.get(ref); // 404 before any byte is written
    const abort = new AbortController();
    ctx.onClientGone(() => abort.abort());
    if (!stream) {
      let body = '';
      await stats.run(ref, { stream: false, oneShot }, (json) => (body = json + '\n'), abort.signal);
      if (abort.signal.aborted) return;
      const data = Buffer.from(body);
      ctx.res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/json', 'Content-Length': data.length });
      ctx.res.end(data);
      return;
    }
    // moby writes the status and flushes before the first sample; the streamed body has no Content-Type.
    ctx.res.writeHead(200, commonHeaders());
    ctx.res.flushHeaders();
    try {
      await stats.run(
        ref,
        { stream: true, oneShot },
        // A client that does not read misses samples instead of queueing them.
        (json) => void (ctx.res.writableLength < 1024 * 1024 && ctx.res.write(json + '\n')),
        abort.signal,
      );
    } finally {
      if (!ctx.res.writableEnded) ctx.res.end();
    }
  });
}
