import * as path from 'node:path';
import { readJsonSync, writeJsonAtomicSync } from '../../util/atomic';
import type { ContentStore } from '../content/store';
import { isDigest } from '../content/digest';
import { chainIds } from '../layers/chain-id';
import type { LayerStore } from '../layers/store';
import { ImageConfigJson, parseConfig } from './config';

/** What images.json keeps per image; everything else is in the config blob. */
interface StoredImage {
  parent?: string;
  size: number;
  lastTagTime?: string;
  retained?: boolean;
}

interface ImagesFile {
  images: Record<string, StoredImage>;
}

export interface ImageEntry {
  id: string;
  config: ImageConfigJson;
  chainIds: string[]; // bottom first
  size: number; // sum of the layers' sizes on disk
  parent: string; // image ID of the parent (builder, commit), or ''
  lastTagTime?: string;
  /**
   * Deleted by the user (rmi -f) while a stopped container still used it: hidden from every
   * lookup except by full ID, kept only so that the container's layers stay; dropped once no
   * container uses it.
   */
  retained?: boolean;
}

/**
 * The image records: `<dataRoot>/images.json` plus one config blob per image in the content
 * store (an image's ID is its config's digest). Loading drops records whose config or layers
 * are gone, so a crash between writing a layer and writing the index cannot leave a broken image.
 */
export class ImageIndex {
  private readonly entries = new Map<string, ImageEntry>();

  private constructor(private readonly file: string) {}

  static load(dataRoot: string, content: ContentStore, layers: LayerStore): { index: ImageIndex; dropped: string[] } {
    const index = new ImageIndex(path.join(dataRoot, 'images.json'));
    const data = readJsonSync<ImagesFile>(index.file);
    const dropped: string[] = [];
    for (const [id, stored] of Object.entries(data?.images ?? {})) {
      const entry = isDigest(id) && content.has(id) ? loadEntry(id, stored, content) : undefined;
      if (entry && entry.chainIds.every((c) => layers.has(c))) index.entries.set(id, entry);
      else dropped.push(id);
    }
    return { index, dropped };
  }

  /** Live images only (retained ones are not images any more as far as users can see). */
  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  get(id: string): ImageEntry | undefined {
    const entry = this.entries.get(id);
    return entry && !entry.retained ? entry : undefined;
  }

  /** Live or retained. */
  getAny(id: string): ImageEntry | undefined {
    return this.entries.get(id);
  }

  all(): ImageEntry[] {
    return [...this.entries.values()].filter((e) => !e.retained);
  }

  /** Everything whose layers must stay: live and retained images. */
  allWithRetained(): ImageEntry[] {
    return [...this.entries.values()];
  }

  get size(): number {
    return this.all().length;
  }

  add(entry: ImageEntry): void {
    this.entries.set(entry.id, entry);
  }

  delete(id: string): boolean {
    return this.entries.delete(id);
  }

  children(id: string): ImageEntry[] {
    return this.all().filter((e) => e.parent === id);
  }

  save(): void {
    const images: ImagesFile['images'] = {};
    for (const e of this.entries.values()) {
      images[e.id] = {
        ...(e.parent ? { parent: e.parent } : {}),
        size: e.size,
        ...(e.lastTagTime ? { lastTagTime: e.lastTagTime } : {}),
        ...(e.retained ? { retained: true } : {}),
      };
    }
    writeJsonAtomicSync(this.file, { images });
  }
}

function loadEntry(id: string, stored: StoredImage, content: ContentStore): ImageEntry | undefined {
  try {
    const config = parseConfig(content.readSync(id));
    return {
      id,
      config,
      chainIds: chainIds(config.rootfs.diff_ids),
      size: stored.size,
      parent: stored.parent ?? '',
      lastTagTime: stored.lastTagTime,
      ...(stored.retained ? { retained: true } : {}),
    };
  } catch {
    return undefined;
  }
}
