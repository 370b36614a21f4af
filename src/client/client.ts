/** Typed Docker Engine API client (the calls the berth CLI and tests need). */
import * as http from 'node:http';
import { Readable } from 'node:stream';
import { Endpoint } from './host';
import { compareVersions, HijackedConnection, Query, Transport, TransportOptions, readBody } from './transport';
import {
  ContainerCreateBody,
  ContainerInspect,
  ContainerSummary,
  CreateResponse,
  Filters,
  ImageInspect,
  ImageSummary,
  SystemInfo,
  VersionResponse,
  WaitResponse,
} from './types';
import type { ContainerPathStat, DiskUsage, ExecCreateConfig, ExecInspect, ImageDeleteItem, ImageHistoryItem } from './types';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed' | '';

/** The wait request was abandoned with WaitHandle.cancel(). */
export class WaitCancelled extends Error {
  constructor() {
    super('wait cancelled');
  }
}

/** A wait request whose headers have arrived; `result` settles when the condition is met. */
export interface WaitHandle {
  result: Promise<WaitResponse>;
  /** Abandons the request (like cancelling the Go context). */
  cancel(): void;
}

export interface ListContainersOptions {
  all?: boolean;
  limit?: number;
  size?: boolean;
  filters?: Filters;
}

export interface LogsOptions {
  stdout?: boolean;
  stderr?: boolean;
  follow?: boolean;
  timestamps?: boolean;
  details?: boolean;
  since?: string;
  until?: string;
  tail?: string;
}

export interface AttachOptions {
  stream?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  logs?: boolean;
  detachKeys?: string;
}

export interface RemoveOptions {
  force?: boolean;
  volumes?: boolean;
  link?: boolean;
}

export interface StopOptions {
  timeout?: number;
  signal?: string;
}

export interface ImportOptions {
  /** fromSrc: `-` for a streamed body, or a URL. */
  source: string;
  repo?: string;
  tag?: string;
  message?: string;
  changes?: string[];
  platform?: string;
}

/** CAP_-prefixed, upper-cased, de-duplicated and sorted (ALL stays ALL); null when empty. */
export function normalizeCapabilities(caps: string[] | null | undefined): string[] | null {
  if (!caps || caps.length === 0) return null;
  const set = new Set<string>();
  for (const c of caps) {
    const u = c.toUpperCase();
    set.add(u === 'ALL' || u.startsWith('CAP_') ? u : `CAP_${u}`);
  }
  return [...set].sort();
}

const flag = (b: boolean | undefined): string | undefined => (b ? '1' : undefined);

/** The X-Docker-Container-Path-Stat header (base64 JSON) of an archive response, if there is one. */
export function decodePathStat(header: string | string[] | undefined): ContainerPathStat | undefined {
  if (!header) return undefined;
  return JSON.parse(Buffer.from(String(header), 'base64').toString('utf8')) as ContainerPathStat;
}

/** JSON of map→map→bool with sorted keys, as Go's json.Marshal writes it. */
export function encodeFilters(f: Filters | undefined): string | undefined {
  if (!f || Object.keys(f).length === 0) return undefined;
  const sorted: Filters = {};
  for (const k of Object.keys(f).sort()) {
    sorted[k] = {};
    for (const v of Object.keys(f[k]).sort()) sorted[k][v] = f[k][v];
  }
  return JSON.stringify(sorted);
}

export class DockerClient {
  readonly transport: Transport;

  constructor(readonly endpoint: Endpoint, opts: TransportOptions = {}) {
    this.transport = new Transport(endpoint, opts);
  }

  get host(): string {
    return this.endpoint.host;
  }

  close(): void {
    this.transport.close();
  }

  // --- system -------------------------------------------------------------------------------

  ping() {
    return this.transport.ping();
  }

  version(): Promise<VersionResponse> {
    return this.transport.json({ method: 'GET', path: '/version' });
  }

  info(): Promise<SystemInfo> {
    return this.transport.json({ method: 'GET', path: '/info' });
  }

  // --- containers ---------------------------------------------------------------------------

  /** POST /containers/create; capabilities are normalised as the Go client does. */
  async containerCreate(body: ContainerCreateBody, opts: { name?: string; platform?: string } = {}): Promise<CreateResponse> {
    await this.transport.negotiate();
    const hc = body.HostConfig;
    if (hc) {
      hc.CapAdd = normalizeCapabilities(hc.CapAdd);
      hc.CapDrop = normalizeCapabilities(hc.CapDrop);
    }
    if (compareVersions(this.transport.apiVersion, '1.44') >= 0 && 'MacAddress' in body) delete body.MacAddress;
    return this.transport.json({
      method: 'POST',
      path: '/containers/create',
      query: { name: opts.name || undefined, platform: opts.platform || undefined },
      json: body,
    });
  }

  containerList(opts: ListContainersOptions = {}): Promise<ContainerSummary[]> {
    return this.transport.json({
      method: 'GET',
      path: '/containers/json',
      query: {
        all: flag(opts.all),
        limit: opts.limit !== undefined && opts.limit > 0 ? String(opts.limit) : undefined,
        size: flag(opts.size),
        filters: encodeFilters(opts.filters),
      },
    });
  }

  async containerInspectRaw(id: string, opts: { size?: boolean } = {}): Promise<{ value: ContainerInspect; raw: Buffer }> {
    return this.transport.jsonWithRaw({
      method: 'GET',
      path: `/containers/${id}/json`,
      query: { size: flag(opts.size) },
    });
  }

  async containerInspect(id: string): Promise<ContainerInspect> {
    return (await this.containerInspectRaw(id)).value;
  }

  containerStart(id: string): Promise<void> {
    return this.transport.noContent({ method: 'POST', path: `/containers/${id}/start` });
  }

  containerStop(id: string, opts: StopOptions = {}): Promise<void> {
    return this.transport.noContent({
      method: 'POST',
      path: `/containers/${id}/stop`,
      query: { t: opts.timeout, signal: opts.signal || undefined },
    });
  }

  containerRestart(id: string, opts: StopOptions = {}): Promise<void> {
    return this.transport.noContent({
      method: 'POST',
      path: `/containers/${id}/restart`,
      query: { t: opts.timeout, signal: opts.signal || undefined },
    });
  }

  containerKill(id: string, signal?: string): Promise<void> {
    return this.transport.noContent({
      method: 'POST',
      path: `/containers/${id}/kill`,
      query: { signal: signal || undefined },
    });
  }

  containerRemove(id: string, opts: RemoveOptions = {}): Promise<void> {
    return this.transport.noContent({
      method: 'DELETE',
      path: `/containers/${id}`,
      query: { force: flag(opts.force), link: flag(opts.link), v: flag(opts.volumes) },
    });
  }

  containerResize(id: string, height: number, width: number): Promise<void> {
    return this.transport.noContent({ method: 'POST', path: `/containers/${id}/resize`, query: { h: height, w: width } });
  }

  /**
   * POST /containers/{id}/wait. Resolves once the response headers arrive (docker run relies on
   * the wait being registered before start); the handle's `result` carries the exit status.
   */
  async containerWait(id: string, condition: WaitCondition = ''): Promise<WaitHandle> {
    const res = await this.transport.request({
      method: 'POST',
      path: `/containers/${id}/wait`,
      query: { condition: condition || undefined },
    });
    let cancelled = false;
    const result = readBody(res).then((body) => {
      if (cancelled) throw new WaitCancelled();
      const text = body.toString('utf8');
      try {
        return JSON.parse(text) as WaitResponse;
      } catch {
        throw new Error(text.trim() === '' ? 'unexpected EOF' : text);
      }
    });
    const guarded = result.catch((err: unknown) => {
      throw cancelled ? new WaitCancelled() : err;
    });
    guarded.catch(() => undefined);
    return {
      result: guarded,
      cancel: () => {
        cancelled = true;
        res.destroy();
      },
    };
  }

  containerAttach(id: string, opts: AttachOptions): Promise<HijackedConnection> {
    return this.transport.hijack({
      method: 'POST',
      path: `/containers/${id}/attach`,
      query: {
        detachKeys: opts.detachKeys || undefined,
        logs: flag(opts.logs),
        stderr: flag(opts.stderr),
        stdin: flag(opts.stdin),
        stdout: flag(opts.stdout),
        stream: flag(opts.stream),
      },
    });
  }

  containerLogs(id: string, opts: LogsOptions): Promise<http.IncomingMessage> {
    return this.transport.request({
      method: 'GET',
      path: `/containers/${id}/logs`,
      query: {
        details: flag(opts.details),
        follow: flag(opts.follow),
        since: opts.since || undefined,
        stderr: flag(opts.stderr),
        stdout: flag(opts.stdout),
        tail: opts.tail,
        timestamps: flag(opts.timestamps),
        until: opts.until || undefined,
      },
    });
  }

  // --- images -------------------------------------------------------------------------------

  imageList(opts: { all?: boolean; filters?: Filters; sharedSize?: boolean } = {}): Promise<ImageSummary[]> {
    return this.transport.json({
      method: 'GET',
      path: '/images/json',
      query: { all: flag(opts.all), filters: encodeFilters(opts.filters), 'shared-size': flag(opts.sharedSize) },
    });
  }

  imageInspectRaw(name: string): Promise<{ value: ImageInspect; raw: Buffer }> {
    return this.transport.jsonWithRaw({ method: 'GET', path: `/images/${name}/json` });
  }

  /** Pull: POST /images/create?fromImage=&tag= ; returns the JSON progress stream. */
  imageCreate(opts: { fromImage: string; tag?: string; platform?: string; registryAuth?: string }): Promise<http.IncomingMessage> {
    return this.transport.request({
      method: 'POST',
      path: '/images/create',
      query: { fromImage: opts.fromImage, tag: opts.tag || undefined, platform: opts.platform || undefined },
      headers: { 'X-Registry-Auth': opts.registryAuth ?? 'e30=' },
    });
  }

  /** Import: POST /images/create?fromSrc=-, body streamed; returns the JSON progress stream. */
  imageImport(body: Readable | undefined, opts: ImportOptions): Promise<http.IncomingMessage> {
    const query: Query = {
      changes: opts.changes && opts.changes.length > 0 ? opts.changes : undefined,
      fromSrc: opts.source,
      message: opts.message || undefined,
      platform: opts.platform ? opts.platform.toLowerCase() : undefined,
      repo: opts.repo || undefined,
      tag: opts.tag || undefined,
    };
    return this.transport.request({ method: 'POST', path: '/images/create', query, body });
  }

  // --- exec, attach helpers, lifecycle, image management, disk usage (berth CLI) -------------

  /** POST /containers/{id}/exec → {Id}. */
  execCreate(id: string, config: ExecCreateConfig): Promise<{ Id: string }> {
    return this.transport.json({ method: 'POST', path: `/containers/${id}/exec`, json: config });
  }

  /** POST /exec/{id}/start with Detach:true (no upgrade; the daemon answers 200). */
  execStartDetached(execId: string, opts: { tty: boolean; consoleSize?: [number, number] | null }): Promise<void> {
    return this.transport.noContent({
      method: 'POST',
      path: `/exec/${execId}/start`,
      json: { Detach: true, Tty: opts.tty, ...(opts.consoleSize ? { ConsoleSize: opts.consoleSize } : {}) },
    });
  }

  /** POST /exec/{id}/start hijacked. */
  execAttach(execId: string, opts: { tty: boolean; consoleSize?: [number, number] | null }): Promise<HijackedConnection> {
    return this.transport.hijack({
      method: 'POST',
      path: `/exec/${execId}/start`,
      json: { Detach: false, Tty: opts.tty, ...(opts.consoleSize ? { ConsoleSize: opts.consoleSize } : {}) },
    });
  }

  execInspect(execId: string): Promise<ExecInspect> {
    return this.transport.json({ method: 'GET', path: `/exec/${execId}/json` });
  }

  execResize(execId: string, height: number, width: number): Promise<void> {
    return this.transport.noContent({ method: 'POST', path: `/exec/${execId}/resize`, query: { h: height, w: width } });
  }

  containerPause(id: string): Promise<void> {
    return this.transport.noContent({ method: 'POST', path: `/containers/${id}/pause` });
  }

  containerUnpause(id: string): Promise<void> {
    return this.transport.noContent({ method: 'POST', path: `/containers/${id}/unpause` });
  }

  containerRename(id: string, newName: string): Promise<void> {
    return this.transport.noContent({ method: 'POST', path: `/containers/${id}/rename`, query: { name: newName } });
  }

  containerUpdate(id: string, config: Record<string, unknown>): Promise<{ Warnings: string[] | null }> {
    return this.transport.json({ method: 'POST', path: `/containers/${id}/update`, json: config });
  }

  containersPrune(filters?: Filters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    return this.transport.json({ method: 'POST', path: '/containers/prune', query: { filters: encodeFilters(filters) } });
  }

  imageRemove(name: string, opts: { force?: boolean; noprune?: boolean; platforms?: string[] } = {}): Promise<ImageDeleteItem[]> {
    return this.transport.json({
      method: 'DELETE',
      path: `/images/${name}`,
      query: { force: flag(opts.force), noprune: flag(opts.noprune), platforms: opts.platforms?.length ? opts.platforms : undefined },
    });
  }

  imageTag(source: string, repo: string, tag: string): Promise<void> {
    return this.transport.noContent({ method: 'POST', path: `/images/${source}/tag`, query: { repo, tag: tag || undefined } });
  }

  imageHistory(name: string, platform?: string): Promise<ImageHistoryItem[]> {
    return this.transport.json({ method: 'GET', path: `/images/${name}/history`, query: { platform: platform || undefined } });
  }

  /** HEAD /containers/{id}/archive: the stat of a path in the container. */
  async containerStatPath(id: string, path: string): Promise<ContainerPathStat> {
    const res = await this.transport.request({ method: 'HEAD', path: `/containers/${id}/archive`, query: { path } });
    res.resume();
    const stat = decodePathStat(res.headers['x-docker-container-path-stat']);
    if (!stat) throw new Error('unable to get resource stat from response');
    return stat;
  }

  /** GET /containers/{id}/export: the container's file system as a tar stream. */
  containerExport(id: string): Promise<http.IncomingMessage> {
    return this.transport.request({ method: 'GET', path: `/containers/${encodeURIComponent(id)}/export` });
  }

  /** GET /images/get?names=a&names=b; returns the tar stream. */
  imageSave(names: string[], platform?: string): Promise<http.IncomingMessage> {
    return this.transport.request({ method: 'GET', path: '/images/get', query: { names, platform: platform || undefined } });
  }

  /** POST /images/load with the tar as a streamed body. */
  imageLoad(body: Readable, opts: { quiet?: boolean; platform?: string } = {}): Promise<http.IncomingMessage> {
    return this.transport.request({
      method: 'POST',
      path: '/images/load',
      query: { platform: opts.platform || undefined, quiet: flag(opts.quiet) },
      body,
      headers: { 'Content-Type': 'application/x-tar' },
    });
  }

  imagesPrune(filters?: Filters): Promise<{ ImagesDeleted: ImageDeleteItem[] | null; SpaceReclaimed: number }> {
    return this.transport.json({ method: 'POST', path: '/images/prune', query: { filters: encodeFilters(filters) } });
  }

  diskUsage(): Promise<DiskUsage> {
    return this.transport.json({ method: 'GET', path: '/system/df' });
  }

  // --- generic inspect probes ---------------------------------------------------------------

  rawGet(path: string, query?: Query): Promise<{ value: unknown; raw: Buffer }> {
    return this.transport.jsonWithRaw({ method: 'GET', path, query });
  }
}
