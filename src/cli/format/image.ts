/** Row contexts for `images` formats (docker's formatter.ImageContext). */
import type { ImageSummary } from '../../client';
import { familiarName, parseNormalizedNamed } from '../reference';
import { truncateID } from './container';
import { headerContext } from './table';
import { goTimeString, humanDuration, humanSize, humanSizeWithPrecision } from './units';

const DEFAULT_IMAGE_TABLE_FORMAT =
  'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
const DEFAULT_IMAGE_TABLE_FORMAT_WITH_DIGEST =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

/** formatter.NewImageFormat */
export function imageFormat(source: string, quiet: boolean, digest: boolean): string {
  if (source === 'table') {
    if (quiet) return '{{.ID}}';
    return digest ? DEFAULT_IMAGE_TABLE_FORMAT_WITH_DIGEST : DEFAULT_IMAGE_TABLE_FORMAT;
  }
  if (source === 'raw') {
    if (quiet) return 'image_id: {{.ID}}';
    if (digest) {
      return 'repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n';
    }
    return 'repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n';
  }
  if (source.startsWith('table') && digest && !source.includes('{{.Digest}}')) return source + '\t{{.Digest}}';
  return source;
}

export const imageHeader = (): Record<string, unknown> =>
  headerContext({
    ID: 'IMAGE ID',
    Repository: 'REPOSITORY',
    Tag: 'TAG',
    Digest: 'DIGEST',
    CreatedSince: 'CREATED',
    CreatedAt: 'CREATED AT',
    Size: 'SIZE',
    Containers: 'CONTAINERS',
    VirtualSize: 'SIZE',
    SharedSize: 'SHARED SIZE',
    UniqueSize: 'UNIQUE SIZE',
  });

export class ImageRow {
  constructor(
    private readonly i: Partial<ImageSummary>,
    private readonly trunc: boolean,
    private readonly repo: string,
    private readonly tag: string,
    private readonly digest: string,
    private readonly now: () => number = Date.now,
  ) {}

  ID(): string {
    const id = this.i.Id ?? '';
    return this.trunc ? truncateID(id) : id;
  }
  Repository(): string {
    return this.repo;
  }
  Tag(): string {
    return this.tag;
  }
  Digest(): string {
    return this.digest;
  }
  CreatedSince(): string {
    // Go's time.Unix(0,0).IsZero() is false, so this is never empty in practice.
    return humanDuration(this.now() - (this.i.Created ?? 0) * 1000) + ' ago';
  }
  CreatedAt(): string {
    return goTimeString(this.i.Created ?? 0);
  }
  Size(): string {
    return humanSizeWithPrecision(this.i.Size ?? 0, 3);
  }
  Containers(): string {
    const n = this.i.Containers ?? 0;
    return n === -1 ? 'N/A' : String(n);
  }
  VirtualSize(): string {
    return humanSize(this.i.Size ?? 0);
  }
  SharedSize(): string {
    const n = this.i.SharedSize ?? 0;
    return n === -1 ? 'N/A' : humanSize(n);
  }
  UniqueSize(): string {
    const size = this.i.Size ?? 0;
    const shared = this.i.SharedSize ?? 0;
    if (size === -1 || shared === -1) return 'N/A';
    return humanSize(size - shared);
  }

  toJSON(): Record<string, unknown> {
    return {
      Containers: this.Containers(),
      CreatedAt: this.CreatedAt(),
      CreatedSince: this.CreatedSince(),
      Digest: this.Digest(),
      ID: this.ID(),
      Repository: this.Repository(),
      SharedSize: this.SharedSize(),
      Size: this.Size(),
      Tag: this.Tag(),
      UniqueSize: this.UniqueSize(),
      VirtualSize: this.VirtualSize(),
    };
  }
}

function isDangling(img: Partial<ImageSummary>): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

/** Expands images into rows (one per repo:tag, or per digest with --digests), like imageFormat(). */
export function imageRows(images: readonly ImageSummary[], opts: { trunc: boolean; digest: boolean; format: string }): ImageRow[] {
  const rows: ImageRow[] = [];
  const needDigest = opts.digest || opts.format.includes('{{.Digest}}');
  for (const img of images) {
    if (isDangling(img)) {
      rows.push(new ImageRow(img, opts.trunc, '<none>', '<none>', '<none>'));
      continue;
    }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const s of img.RepoTags ?? []) {
      try {
        const ref = parseNormalizedNamed(s);
        if (ref.tag !== undefined) {
          const name = familiarName(ref);
          repoTags.set(name, [...(repoTags.get(name) ?? []), ref.tag]);
        }
      } catch {
        // skip unparsable references
      }
    }
    for (const s of img.RepoDigests ?? []) {
      try {
        const ref = parseNormalizedNamed(s);
        if (ref.digest !== undefined) {
          const name = familiarName(ref);
          repoDigests.set(name, [...(repoDigests.get(name) ?? []), ref.digest]);
        }
      } catch {
        // skip unparsable references
      }
    }
    for (const [repo, tags] of repoTags) {
      let digests = repoDigests.get(repo) ?? [];
      repoDigests.delete(repo);
      if (!needDigest) digests = [];
      for (const tag of tags) {
        if (digests.length === 0) {
          rows.push(new ImageRow(img, opts.trunc, repo, tag, '<none>'));
          continue;
        }
        for (const d of digests) rows.push(new ImageRow(img, opts.trunc, repo, tag, d));
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (opts.digest) for (const d of digests) rows.push(new ImageRow(img, opts.trunc, repo, '<none>', d));
      else rows.push(new ImageRow(img, opts.trunc, repo, '<none>', ''));
    }
  }
  return rows;
}
