import type { ImageConfigBody } from './config';
import type { ImageEntry } from './image-index';
import { ParsedReference, repoDigests, repoTags } from './reference';
import { goTimeText } from './time';

/** Docker prints the zero time.Time for images that were never tagged. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface InspectPaths {
  /** Directory of a layer (chain ID); its diff dir is `<dir>/diff`. */
  layerPath(chainId: string): string;
  diffDir(chainId: string): string;
}

/** GET /images/{name}/json body, as moby 28 writes it for API 1.50 with the overlay2 driver. */
export function inspectImage(entry: ImageEntry, refs: ParsedReference[], paths: InspectPaths): object {
  const cfg = entry.config;
  const history = cfg.history ?? [];
  const diffIds = cfg.rootfs.diff_ids;
  return {
    Id: entry.id,
    RepoTags: repoTags(refs),
    RepoDigests: repoDigests(refs),
    Parent: entry.parent,
    Comment: cfg.comment || history[history.length - 1]?.comment || '',
    Created: (cfg.created && goTimeText(cfg.created)) ?? cfg.created ?? '',
    DockerVersion: cfg.docker_version ?? '',
    Author: cfg.author ?? '',
    Config: inspectConfig(cfg.config ?? {}),
    Architecture: cfg.architecture ?? '',
    ...(cfg.variant ? { Variant: cfg.variant } : {}),
    Os: cfg.os ?? '',
    ...(cfg['os.version'] ? { OsVersion: cfg['os.version'] } : {}),
    Size: entry.size,
    GraphDriver: { Data: graphDriverData(entry.chainIds, paths), Name: 'overlay2' },
    RootFS: { Type: 'layers', ...(diffIds.length > 0 ? { Layers: diffIds } : {}) },
    Metadata: { LastTagTime: entry.lastTagTime ?? ZERO_TIME },
  };
}

/** API 1.50 always includes these config fields, null or empty when unset (moby #50134). */
function inspectConfig(body: ImageConfigBody): object {
  return {
    User: body.User ?? '',
    ...(body.ExposedPorts && Object.keys(body.ExposedPorts).length > 0 ? { ExposedPorts: body.ExposedPorts } : {}),
    Env: body.Env ?? null,
    Entrypoint: body.Entrypoint ?? null,
    Cmd: body.Cmd ?? null,
    ...(body.Healthcheck ? { Healthcheck: body.Healthcheck } : {}),
    ...(body.ArgsEscaped ? { ArgsEscaped: true } : {}),
    Volumes: body.Volumes ?? null,
    WorkingDir: body.WorkingDir ?? '',
    Labels: body.Labels ?? null,
    OnBuild: body.OnBuild ?? null,
    ...(body.StopSignal ? { StopSignal: body.StopSignal } : {}),
    ...(body.Shell && body.Shell.length > 0 ? { Shell: body.Shell } : {}),
  };
}

/** overlay2's metadata: the top layer as upper dir, the ones below (top first) as lower dirs. */
function graphDriverData(chainIds: string[], paths: InspectPaths): Record<string, string> | null {
  if (chainIds.length === 0) return null;
  const top = chainIds[chainIds.length - 1];
  const lowers = chainIds.slice(0, -1).reverse().map((c) => paths.diffDir(c));
  const layerDir = paths.layerPath(top);
  return {
    ...(lowers.length > 0 ? { LowerDir: lowers.join(':') } : {}),
    MergedDir: `${layerDir}/merged`,
    UpperDir: paths.diffDir(top),
    WorkDir: `${layerDir}/work`,
  };
}
