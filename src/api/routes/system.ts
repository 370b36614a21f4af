import * as os from 'node:os';
import type { Router } from '../http/router';
import { API_VERSION, MIN_API_VERSION } from '../http/version';
import { ENGINE_VERSION, commonHeaders } from '../http/context';
import type { Engine } from '../../daemon/engine';
import { filtersParam } from '../http/query';
import type { EngineEvent } from '../../engine/events/bus';
import { invalidParameter } from '../../util/errors';

function pingHeaders(): Record<string, string> {
  return {
    ...commonHeaders(),
    'Builder-Version': '1',
    Swarm: 'inactive',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
  };
}

/** Parses `since`/`until` as Docker accepts them: unix seconds (fractional allowed) or RFC3339. */
export function parseTimeParam(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^[0-9]+(\.[0-9]+)?$/.test(v)) {
    const [s, frac = ''] = v.split('.');
    return Number(s) * 1e9 + Number((frac + '000000000').slice(0, 9));
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalidParameter(`invalid value for since/until: ${v}`);
  return t * 1e6;
}

function eventMatches(ev: EngineEvent, f: Record<string, string[]>): boolean {
  const attrs = ev.Actor.Attributes;
  const check = (key: string, pred: (v: string) => boolean) => !f[key] || f[key].length === 0 || f[key].some(pred);
  return (
    check('type', (t) => ev.Type === t) &&
    check('event', (a) => ev.Action === a || ev.Action.startsWith(`${a}:`)) &&
    check('container', (c) => ev.Type === 'container' && (ev.Actor.ID.startsWith(c) || attrs.name === c)) &&
    check('image', (i) => attrs.image === i || ev.Actor.ID === i) &&
    check('label', (l) => {
      const [k, v] = l.split('=', 2) as [string, string | undefined];
      return k in attrs && (v === undefined || attrs[k] === v);
    }) &&
    check('scope', (s) => s === 'local')
  );
}

export function registerSystemRoutes(r: Router, engine: Engine): void {
  const ping = (ctx: Parameters<Parameters<Router['get']>[1]>[0]) => {
    const headers = { ...pingHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '2' };
    ctx.res.writeHead(200, headers);
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
  };
  r.get('/_ping', ping).head('/_ping', ping);

  r.get('/version', (ctx) => ctx.sendJson(200, versionBody()));

  r.get('/info', (ctx) => ctx.sendJson(200, engine.info()));

  r.get('/events', async (ctx) => {
    const filters = filtersParam(ctx.query);
    const since = parseTimeParam(ctx.query.get('since'));
    const until = parseTimeParam(ctx.query.get('until'));
    ctx.startStream('application/json');
    const write = (ev: EngineEvent) => {
      if (until !== undefined && ev.timeNano > until) return;
      if (eventMatches(ev, filters)) ctx.res.write(JSON.stringify(ev) + '\n');
    };
    if (since !== undefined) for (const ev of engine.events.replay(since)) write(ev);
    if (until !== undefined && until <= Date.now() * 1e6) {
      ctx.res.end();
      return;
    }
    const unsubscribe = engine.events.subscribe(write);
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
      ctx.res.end();
    };
    if (until !== undefined) timer = setTimeout(finish, until / 1e6 - Date.now());
    ctx.onClientGone(finish);
  });
}

export function versionBody(): object {
  return {
    Platform: { Name: 'Berth Engine' },
    Components: [
      {
        Name: 'Engine',
        Version: ENGINE_VERSION,
        Details: {
          ApiVersion: API_VERSION,
          Arch: os.arch() === 'x64' ? 'amd64' : os.arch(),
          BuildTime: '2026-11-29T00:00:00.000000000+00:00',
          Experimental: 'false',
          GitCommit: 'berth',
          GoVersion: `node${process.versions.node}`,
          KernelVersion: os.release(),
          MinAPIVersion: MIN_API_VERSION,
          Os: 'linux',
        },
      },
    ],
    Version: ENGINE_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: 'berth',
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: os.arch() === 'x64' ? 'amd64' : os.arch(),
    KernelVersion: os.release(),
    BuildTime: '2026-11-29T00:00:00.000000000+00:00',
  };
}
