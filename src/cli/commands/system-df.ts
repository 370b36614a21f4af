/** `system df`: disk usage (docker's formatter.DiskUsageContext). */
import type { BuildCacheRecord, ContainerSummary, DiskUsage, ImageSummary } from '../../client';
import type { Cli } from '../cli';
import { CommandSpec, StatusError } from '../command';
import { FlagValues } from '../flags';
import { ContainerRow, containerHeader, truncateID } from '../format/container';
import { imageHeader, ImageRow } from '../format/image';
import { volumeHeader, VolumeRow } from '../format/volume';
import { compileOrThrow, headerContext, isTableFormat, JSON_FORMAT, marshalRow, preFormat, renderFormatted } from '../format/table';
import { humanDuration, humanSize } from '../format/units';
import { familiarName, parseNormalizedNamed } from '../reference';
import { FORMAT_HELP } from '../opts';

const SUMMARY_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const SUMMARY_RAW = 'type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\nreclaimable: {{.Reclaimable}}\n';
const IMAGE_TABLE =
  'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const CONTAINER_TABLE =
  'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const VOLUME_TABLE = 'table {{.Name}}\t{{.Links}}\t{{.Size}}';
const BUILD_CACHE_TABLE =
  'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';

/** "1.2kB (42%)" when there is something to take a percentage of. */
function withPercent(reclaimable: number, total: number): string {
  if (total > 0) return `${humanSize(reclaimable)} (${Math.trunc((reclaimable * 100) / total)}%)`;
  return humanSize(reclaimable);
}

class SummaryRow {
  constructor(
    private readonly type: string,
    private readonly total: number,
    private readonly active: number,
    private readonly size: number,
    private readonly reclaimable: string,
  ) {}
  Type(): string {
    return this.type;
  }
  TotalCount(): string {
    return String(this.total);
  }
  Active(): string {
    return String(this.active);
  }
  Size(): string {
    return humanSize(this.size);
  }
  Reclaimable(): string {
    return this.reclaimable;
  }
  toJSON(): Record<string, unknown> {
    return { Active: this.Active(), Reclaimable: this.Reclaimable(), Size: this.Size(), TotalCount: this.TotalCount(), Type: this.Type() };
  }
}

// The first row is always the images summary: template errors name docker's type for it.
Object.defineProperty(SummaryRow, 'name', { value: '*formatter.diskUsageImagesContext' });

const ACTIVE_STATES = new Set(['running', 'paused', 'restarting']);

export function summaryRows(du: DiskUsage): SummaryRow[] {
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const volumes = du.Volumes ?? [];
  const cache = du.BuildCache ?? [];

  const total = du.LayersSize ?? 0;
  let used = 0;
  for (const i of images) {
    if (i.Containers !== 0 && i.Size !== -1 && i.SharedSize !== -1) used += i.Size - i.SharedSize;
  }
  const imagesRow = new SummaryRow('Images', images.length, images.filter((i) => i.Containers > 0).length, total, withPercent(total - used, total));

  let cSize = 0;
  let cReclaim = 0;
  for (const c of containers) {
    cSize += c.SizeRw ?? 0;
    if (!ACTIVE_STATES.has(c.State)) cReclaim += c.SizeRw ?? 0;
  }
  const containersRow = new SummaryRow(
    'Containers',
    containers.length,
    containers.filter((c) => ACTIVE_STATES.has(c.State)).length,
    cSize,
    withPercent(cReclaim, cSize),
  );

  let vSize = 0;
  let vReclaim = 0;
  for (const v of volumes) {
    const size = v.UsageData?.Size ?? -1;
    if (size === -1) continue;
    if ((v.UsageData?.RefCount ?? 0) === 0) vReclaim += size;
    vSize += size;
  }
  const volumesRow = new SummaryRow(
    'Local Volumes',
    volumes.length,
    volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length,
    vSize,
    withPercent(vReclaim, vSize),
  );

  let builderSize = 0;
  let inUse = 0;
  for (const bc of cache) {
    if (!bc.Shared) builderSize += bc.Size;
    if (bc.InUse && !bc.Shared) inUse += bc.Size;
  }
  const cacheRow = new SummaryRow('Build Cache', cache.length, cache.filter((b) => b.InUse).length, builderSize, humanSize(builderSize - inUse));
  return [imagesRow, containersRow, volumesRow, cacheRow];
}

class BuildCacheRow {
  constructor(
    private readonly b: BuildCacheRecord,
    private readonly trunc: boolean,
  ) {}
  ID(): string {
    return this.trunc ? truncateID(this.b.ID) : this.b.ID;
  }
  CacheType(): string {
    return this.b.Type;
  }
  Description(): string {
    return this.b.Description ?? '';
  }
  Size(): string {
    return humanSize(this.b.Size);
  }
  CreatedSince(): string {
    return `${humanDuration(Date.now() - Date.parse(this.b.CreatedAt))} ago`;
  }
  LastUsedSince(): string {
    if (!this.b.LastUsedAt) return '';
    return `${humanDuration(Date.now() - Date.parse(this.b.LastUsedAt))} ago`;
  }
  UsageCount(): string {
    return String(this.b.UsageCount);
  }
  InUse(): string {
    return String(this.b.InUse);
  }
  Shared(): string {
    return String(this.b.Shared);
  }
  Parent(): string {
    const parents = this.b.Parents ?? [];
    return parents.length > 0 ? (this.trunc ? truncateID(parents[0]) : parents[0]) : '';
  }
  toJSON(): Record<string, unknown> {
    return {
      CacheType: this.CacheType(),
      CreatedSince: this.CreatedSince(),
      Description: this.Description(),
      ID: this.ID(),
      InUse: this.InUse(),
      LastUsedSince: this.LastUsedSince(),
      Parent: this.Parent(),
      Shared: this.Shared(),
      Size: this.Size(),
      UsageCount: this.UsageCount(),
    };
  }
}

const buildCacheHeader = () =>
  headerContext({
    ID: 'CACHE ID',
    CacheType: 'CACHE TYPE',
    Size: 'SIZE',
    CreatedSince: 'CREATED',
    LastUsedSince: 'LAST USED',
    UsageCount: 'USAGE',
    Shared: 'SHARED',
    Description: 'DESCRIPTION',
    InUse: 'IN USE',
  });

function isDangling(i: ImageSummary): boolean {
  const tags = i.RepoTags ?? [];
  const digests = i.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

/** formatter's diskUsageContext: what a custom template sees with -v. */
class DiskUsageView {
  constructor(
    readonly Images: ImageRow[],
    readonly Containers: ContainerRow[],
    readonly Volumes: VolumeRow[],
    readonly BuildCache: BuildCacheRow[],
  ) {}
}
Object.defineProperty(DiskUsageView, 'name', { value: '*formatter.diskUsageContext' });

function verboseContext(du: DiskUsage, trunc: boolean): DiskUsageView {
  const images: ImageRow[] = [];
  for (const i of du.Images ?? []) {
    let repo = '<none>';
    let tag = '<none>';
    if ((i.RepoTags ?? []).length > 0 && !isDangling(i)) {
      let ref;
      try {
        ref = parseNormalizedNamed((i.RepoTags as string[])[0]);
      } catch {
        continue;
      }
      if (ref.tag !== undefined) {
        repo = familiarName(ref);
        tag = ref.tag;
      }
    }
    images.push(new ImageRow(i, trunc, repo, tag, ''));
  }
  const containers = (du.Containers ?? []).map((c: ContainerSummary) => new ContainerRow({ ...c, SizeRootFs: 0 }, trunc));
  const volumes = (du.Volumes ?? []).map((v) => new VolumeRow(v));
  const cache = [...(du.BuildCache ?? [])]
    .sort((a, b) => (a.LastUsedAt && b.LastUsedAt ? Date.parse(b.LastUsedAt) - Date.parse(a.LastUsedAt) : 0))
    .map((b) => new BuildCacheRow(b, trunc));
  return new DiskUsageView(images, containers, volumes, cache);
}

export function renderDiskUsage(du: DiskUsage, format: string, verbose: boolean): string {
  if (!verbose) {
    const f = format === 'table' ? SUMMARY_TABLE : format === 'raw' ? SUMMARY_RAW : format;
    return renderFormatted(f, summaryRows(du), headerContext({ Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' }));
  }
  const duc = verboseContext(du, isTableFormat(format));
  if (format !== 'table') {
    const src = preFormat(format);
    // The rows marshal themselves with json.Marshal (HTML-escaped); the outer encoder does not re-escape.
    if (src === JSON_FORMAT) {
      return marshalRow({
        Images: duc.Images.map((r) => r.toJSON()),
        Containers: duc.Containers.map((r) => r.toJSON()),
        Volumes: duc.Volumes.map((r) => r.toJSON()),
        BuildCache: duc.BuildCache.map((r) => r.toJSON()),
      });
    }
    const tmpl = compileOrThrow(src);
    try {
      return tmpl(duc);
    } catch (err) {
      throw new StatusError((err as Error).message, 1);
    }
  }
  let builderSize = 0;
  for (const bc of du.BuildCache ?? []) if (!bc.Shared) builderSize += bc.Size;
  let out = 'Images space usage:\n\n';
  out += renderFormatted(IMAGE_TABLE, duc.Images, imageHeader());
  out += '\nContainers space usage:\n\n';
  out += renderFormatted(CONTAINER_TABLE, duc.Containers, containerHeader());
  out += '\nLocal Volumes space usage:\n\n';
  out += renderFormatted(VOLUME_TABLE, duc.Volumes, volumeHeader());
  out += `\nBuild cache usage: ${humanSize(builderSize)}\n\n`;
  out += renderFormatted(BUILD_CACHE_TABLE, duc.BuildCache, buildCacheHeader());
  return out;
}

async function runDf(cli: Cli, flags: FlagValues): Promise<number> {
  const du = await cli.client.diskUsage();
  cli.out(renderDiskUsage(du, flags.string('format') || 'table', flags.bool('verbose')));
  return 0;
}

export const systemDfCommand: CommandSpec = {
  name: 'df',
  use: 'df [OPTIONS]',
  short: 'Show berth disk usage',
  args: { kind: 'none' },
  flags: [
    { name: 'verbose', short: 'v', type: 'bool', usage: 'Show detailed information on space usage' },
    { name: 'format', type: 'string', usage: FORMAT_HELP },
  ],
  run: runDf,
};
