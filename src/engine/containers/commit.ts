import { PassThrough } from 'node:stream';
import { conflict } from '../../util/errors';
import { chainIds } from '../layers/chain-id';
import type { EventBus } from '../events/bus';
import { applyChanges } from '../images/changes';
import type { ImageConfigBody, ImageConfigJson } from '../images/config';
import { repoTagReference } from '../images/reference';
import type { ImageService } from '../images/service';
import { nowRfc3339Nano } from '../images/time';
import { opaqueDirs, writeTreeTar } from '../layers/tar-writer';
import type { OverlaySnapshotter } from '../snapshots/overlay';
import { isInitMountPoint, upperDirChanges, type Change } from './changes';
import type { ContainerStore } from './store';
import type { ContainerConfig, ContainerRecord } from './types';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CommitDeps {
  store: ContainerStore;
  snapshots: OverlaySnapshotter;
  images: ImageService;
  events: EventBus;
  pause: (id: string) => Promise<void>;
  unpause: (id: string) => Promise<void>;
}

export interface CommitOptions {
  repo?: string;
  tag?: string;
  author?: string;
  comment?: string;
  changes?: string[];
  pause?: boolean;
  /** The request body: a container config to start from instead of the container's. */
  config?: Partial<ContainerConfig> | null;
}

/** Field order of Go's container.Config, so committed configs read like moby's. */
const CONFIG_ORDER = [
  'Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty', 'OpenStdin', 'StdinOnce',
  'Env', 'Cmd', 'Healthcheck', 'ArgsEscaped', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint', 'OnBuild', 'Labels', 'StopSignal',
  'StopTimeout', 'Shell',
];
const OMIT_EMPTY = new Set(['ExposedPorts', 'Healthcheck', 'ArgsEscaped', 'StopSignal', 'StopTimeout', 'Shell']);

function goConfig(c: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG_ORDER) {
    const v = c[k];
    if (OMIT_EMPTY.has(k) && (v === undefined || v === null || v === '' || v === false || (typeof v === 'object' && Object.keys(v as object).length === 0))) continue;
    if (v === undefined) {
      out[k] = ['Hostname', 'Domainname', 'User', 'Image', 'WorkingDir'].includes(k) ? '' : ['AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce'].includes(k) ? false : null;
    } else out[k] = v;
  }
  return out;
}

/** moby's merge(): fills what the new config leaves empty from the container's config. */
function mergeConfig(user: Record<string, any>, base: ContainerConfig): void {
  if (!user.User) user.User = base.User;
  if (!user.ExposedPorts || !Object.keys(user.ExposedPorts).length) user.ExposedPorts = base.ExposedPorts;
  else for (const p of Object.keys(base.ExposedPorts ?? {})) user.ExposedPorts[p] ??= {};
  if (!user.Env?.length) user.Env = base.Env;
  else {
    for (const e of base.Env ?? []) {
      const key = e.split('=', 1)[0];
      if (!user.Env.some((u: string) => u.split('=', 1)[0] === key)) user.Env.push(e);
    }
  }
  user.Labels ??= {};
  for (const [k, v] of Object.entries(base.Labels ?? {})) if (!(k in user.Labels)) user.Labels[k] = v;
  if (!user.Entrypoint?.length) {
    if (!user.Cmd?.length) user.Cmd = base.Cmd;
    if (user.Entrypoint === undefined || user.Entrypoint === null) user.Entrypoint = base.Entrypoint;
  }
  if (!user.WorkingDir) user.WorkingDir = base.WorkingDir;
  if (!user.Volumes || !Object.keys(user.Volumes).length) user.Volumes = base.Volumes;
  else Object.assign(user.Volumes, base.Volumes ?? {});
  if (!user.StopSignal) user.StopSignal = base.StopSignal;
  if (!user.Healthcheck && base.Healthcheck) user.Healthcheck = base.Healthcheck;
}

/** docker diff and docker commit. */
export class ContainerCommits {
  constructor(private readonly d: CommitDeps) {}

  private lowers(c: ContainerRecord): string[] {
    try {
      return this.d.images.lowerDirs(c.Image);
    } catch {
      return [];
    }
  }

  /** GET /containers/{id}/changes. */
  async changes(ref: string): Promise<Change[] | null> {
    const c = this.d.store.get(ref);
    return upperDirChanges(this.d.snapshots.upperDir(c.Id), this.lowers(c));
  }

  /** POST /commit: the container's upper dir as a new layer over its image, with the config moby writes. */
  async commit(ref: string, opts: CommitOptions): Promise<string> {
    const c = this.d.store.get(ref);
    if (c.State.Dead) throw conflict(`You cannot commit container ${c.Id} which is Dead`);
    if (c.State.Status === 'removing') throw conflict(`You cannot commit container ${c.Id} which is being removed`);
    const target = opts.repo ? repoTagReference(opts.repo, opts.tag || undefined) : undefined;
    // Changes are checked before anything is paused or written.
    const base = (opts.config ?? c.Config) as ContainerConfig;
    const changed = applyChanges(structuredClone(base) as unknown as ImageConfigBody, opts.changes ?? []) as unknown as Record<string, any>;
    mergeConfig(changed, c.Config);

    const paused = opts.pause !== false && c.State.Running && !c.State.Paused;
    if (paused) await this.d.pause(c.Id).catch(() => undefined);
    let layer: { diffId: string; chainId: string };
    const parentImage = this.d.images.get(c.Image);
    const parentJson = JSON.parse(this.d.images.content.readSync(parentImage.id).toString('utf8')) as ImageConfigJson;
    try {
      const upper = this.d.snapshots.upperDir(c.Id);
      const candidates: string[] = [];
      const collect = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          if (!e.isDirectory()) continue;
          const p = path.join(dir, e.name);
          candidates.push(p);
          collect(p);
        }
      };
      collect(upper);
      const opaque = opaqueDirs(candidates);
      const tarStream = new PassThrough({ highWaterMark: 1 << 20 });
      const chain = chainIds(parentJson.rootfs.diff_ids);
      const parentChain = chain.length ? chain[chain.length - 1]! : null;
      const writing = writeTreeTar(upper, '', tarStream, { overlayWhiteouts: true, opaqueDirs: opaque, skip: (name, host) => isInitMountPoint(`/${name}`, host) });
      const [info] = await Promise.all([this.d.images.applyLayer(tarStream, parentChain), writing]);
      layer = info;
    } finally {
      if (paused) await this.d.unpause(c.Id).catch(() => undefined);
    }

    const created = nowRfc3339Nano();
    const empty = layer.diffId === EMPTY_LAYER_DIFF_ID;
    const history = [...(parentJson.history ?? [])];
    history.push({
      created,
      ...(opts.author ? { author: opts.author } : {}),
      created_by: (c.Config.Cmd ?? []).join(' '),
      ...(opts.comment ? { comment: opts.comment } : {}),
      ...(empty ? { empty_layer: true } : {}),
    });
    const config: Record<string, unknown> = {
      ...(opts.comment ? { comment: opts.comment } : {}),
      created,
      container: c.Id,
      container_config: goConfig(c.Config as unknown as Record<string, unknown>),
      ...(opts.author ? { author: opts.author } : {}),
      config: goConfig(changed),
      architecture: parentJson.architecture ?? 'amd64',
      ...(parentJson.variant ? { variant: parentJson.variant } : {}),
      os: parentJson.os ?? 'linux',
      rootfs: { type: 'layers', diff_ids: [...parentJson.rootfs.diff_ids, ...(empty ? [] : [layer.diffId])] },
      history,
      ...(parentJson['os.version'] ? { 'os.version': parentJson['os.version'] } : {}),
    };
    const id = await this.d.images.createImage(Buffer.from(JSON.stringify(config)), { parent: parentImage.id });
    this.d.events.publish('image', 'create', id, { name: id });
    let imageRef = '';
    if (target && opts.repo) {
      await this.d.images.tag(id, opts.repo, opts.tag || undefined);
      imageRef = target.familiarName + (target.tag ? `:${target.tag}` : '');
    }
    this.d.events.publish('container', 'commit', c.Id, { comment: opts.comment ?? '', imageID: id, imageRef });
    return id;
  }
}

/** The diff ID of a tar with no entries (moby's layer.EmptyLayer). */
export const EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

