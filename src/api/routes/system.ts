import * as os from 'node:os';
import type { Router } from '../http/router';
import { API_VERSION, MIN_API_VERSION } from '../http/version';
import { ENGINE_VERSION, commonHeaders } from '../http/context';
import type { Engine } from '../../daemon/engine';
import { filtersParam } from '../http/query';
import type { EngineEvent } from '../../engine/events/bus';
import { eventMatches } from '../../engine/events/filter';
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

/** Bytes of events queued for a client that does not read before it is disconnected. */
const MAX_EVENTS_BACKLOG = 4 * 1024 * 1024;

/**
 * `since`/`until` of /events in ns: unix seconds with optional fractional digits, as moby parses them (the CLI
 * turns durations and dates into that form); errors in moby's words.
 */
export function parseEventTime(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  const dot = v.indexOf('.');
  const sec = dot < 0 ? v : v.slice(0, dot);
  const frac = dot < 0 ? '' : v.slice(dot + 1);
  const bad = (part: string) => invalidParameter(`strconv.ParseInt: parsing ${JSON.stringify(part)}: invalid syntax`);
  if (!/^[+-]?[0-9]+$/.test(sec)) throw bad(sec);
  if (dot >= 0 && !/^[0-9]+$/.test(frac)) throw bad(frac);
  return Number(sec) * 1e9 + (frac ? Number(frac.padEnd(9, '0').slice(0, 9)) : 0);
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

  r.get('/events', (ctx) => {
    const filters = filtersParam(ctx.query);
    const sinceRaw = ctx.query.get('since');
    const untilRaw = ctx.query.get('until');
    const since = parseEventTime(sinceRaw);
    const until = parseEventTime(untilRaw);
    if (until !== undefined && since !== undefined && until < since) {
      throw invalidParameter(`\`since\` time (${sinceRaw}) cannot be after \`until\` time (${untilRaw})`);
    }
    const onlyPast = until !== undefined && until < Date.now() * 1e6;
    let send = (ev: EngineEvent) => {
      if (!eventMatches(ev, filters)) return;
      // A client that stops reading is cut off rather than buffered without bound (moby drops it too).
      if (ctx.res.writableLength > MAX_EVENTS_BACKLOG) return ctx.res.destroy();
      ctx.res.write(JSON.stringify(ev) + '\n');
    };
    ctx.startStream('application/json');
    // Replay and subscribe in one synchronous step: no event can fall in between.
    for (const ev of engine.events.replay(since, until)) send(ev);
    const unsubscribe = onlyPast ? () => undefined : engine.events.subscribe((ev) => send(ev));
    if (onlyPast) {
      ctx.res.end();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      unsubscribe();
      send = () => undefined;
      if (timer) clearTimeout(timer);
      if (!ctx.res.writableEnded) ctx.res.end();
    };
    if (until !== undefined) timer = setTimeout(finish, Math.max(0, until / 1e6 - Date.now()));
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
