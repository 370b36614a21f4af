import { systemError } from '../../util/errors';
import type { ImageEntry } from './image-index';
import { unixSeconds } from './time';

export interface HistoryItem {
  Comment: string;
  Created: number;
  CreatedBy: string;
  Id: string;
  Size: number;
  Tags: string[] | null;
}

export interface HistorySource {
  layerSize(chainId: string): number;
  /** Familiar `name:tag` references of an image. */
  tagsOf(id: string): string[];
  /** The entry of an image ID, or undefined when it is not in the store. */
  entry(id: string): ImageEntry | undefined;
}

/**
 * `GET /images/{name}/history`, newest first. Each history entry that made a layer gets that
 * layer's size; IDs are known only for the image itself and its parents in the store, so the
 * other rows are `<missing>` (as in moby).
 */
export function imageHistory(entry: ImageEntry, source: HistorySource): HistoryItem[] {
  const items: HistoryItem[] = [];
  let layer = 0;
  for (const h of entry.config.history ?? []) {
    let size = 0;
    if (!h.empty_layer) {
      const chainId = entry.chainIds[layer];
      if (chainId === undefined) throw systemError('too many non-empty layers in History section');
      size = source.layerSize(chainId);
      layer++;
    }
    items.unshift({
      Comment: h.comment ?? '',
      Created: unixSeconds(h.created),
      CreatedBy: h.created_by ?? '',
      Id: '<missing>',
      Size: size,
      Tags: null,
    });
  }

  let current: ImageEntry | undefined = entry;
  for (const item of items) {
    if (!current) break;
    item.Id = current.id;
    const tags = source.tagsOf(current.id);
    item.Tags = tags.length > 0 ? tags : null;
    current = current.parent ? source.entry(current.parent) : undefined;
  }
  return items;
}
