import type { ImageEntry } from './image-index';
import { ParsedReference, repoDigests, repoTags } from './reference';
import { unixSeconds } from './time';
import type { ContainerUse } from './usage';

export interface DiskUsageSource {
  entries: ImageEntry[];
  layerSize(chainId: string): number;
  refsFor(id: string): ParsedReference[];
  hasChildren(id: string): boolean;
  containers: ContainerUse[];
}

export interface ImageDiskUsage {
  LayersSize: number;
  Images: object[];
}

/**
 * The image half of `GET /system/df`, from the sizes recorded per layer when it was extracted
 * (no file walking): LayersSize counts each layer once; an image's SharedSize is the part of it
 * that other images use too; Containers counts the containers created from it.
 */
export function diskUsage(src: DiskUsageSource): ImageDiskUsage {
  const layerRefs = countLayerRefs(src.entries);
  let layersSize = 0;
  for (const chainId of layerRefs.keys()) layersSize += src.layerSize(chainId);
  const shared = sharedSizes(src.entries, src.layerSize, layerRefs);

  const containerCount = new Map<string, number>();
  for (const c of src.containers) containerCount.set(c.imageId, (containerCount.get(c.imageId) ?? 0) + 1);

  const images = src.entries
    .filter((e) => src.refsFor(e.id).length > 0 || !src.hasChildren(e.id))
    .sort((a, b) => unixSeconds(b.config.created) - unixSeconds(a.config.created))
    .map((e) => {
      const refs = src.refsFor(e.id);
      return {
        Containers: containerCount.get(e.id) ?? 0,
        Created: unixSeconds(e.config.created),
        Id: e.id,
        Labels: e.config.config?.Labels ?? null,
        ParentId: e.parent,
        RepoDigests: repoDigests(refs),
        RepoTags: repoTags(refs),
        SharedSize: shared.get(e.id) ?? 0,
        Size: e.size,
      };
    });
  return { LayersSize: layersSize, Images: images };
}

function countLayerRefs(entries: ImageEntry[]): Map<string, number> {
  const refs = new Map<string, number>();
  for (const e of entries) for (const c of e.chainIds) refs.set(c, (refs.get(c) ?? 0) + 1);
  return refs;
}

/** Per image, the bytes of its layers that other images use too. */
export function sharedSizes(entries: ImageEntry[], layerSize: (chainId: string) => number, refs = countLayerRefs(entries)): Map<string, number> {
  return new Map(entries.map((e) => [e.id, e.chainIds.reduce((sum, c) => sum + ((refs.get(c) ?? 0) > 1 ? layerSize(c) : 0), 0)]));
}

interface ContainerSummary {
  Id: string;
  ImageID: string;
  [key: string]: unknown;
}

/**
 * `GET /system/df` as moby answers it: images with shared sizes and container counts,
 * containers with SizeRw (their upper dir) and SizeRootFs (that plus their image), no volumes
 * or build cache yet.
 */
export function systemDiskUsage(
  images: ImageDiskUsage,
  containers: ContainerSummary[],
  sizes: { sizeRw(id: string): number; imageSize(id: string): number },
): object {
  return {
    LayersSize: images.LayersSize,
    Images: images.Images,
    Containers: containers.map((c) => {
      const rw = sizes.sizeRw(c.Id);
      return { ...c, SizeRw: rw, SizeRootFs: rw + sizes.imageSize(c.ImageID) };
    }),
    Volumes: [],
    BuildCache: [],
  };
}
