/** Row context for `ps` formats (docker's formatter.ContainerContext). */
import type { ContainerSummary, Port } from '../../client';
import { familiarString, parseNormalizedNamed } from '../reference';
import { goQuoteString, goTimeString, humanDuration, humanSizeWithPrecision } from './units';
import { ellipsis } from './width';
import { headerContext } from './table';

export const DEFAULT_CONTAINER_TABLE_FORMAT =
  'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

export function truncateID(id: string): string {
  const i = id.indexOf(':');
  const s = i >= 0 ? id.slice(i + 1) : id;
  return s.length > 12 ? s.slice(0, 12) : s;
}

/** formatter.NewContainerFormat */
export function containerFormat(source: string, quiet: boolean, size: boolean): string {
  if (source === 'table' || source === '') {
    if (quiet) return '{{.ID}}';
    return DEFAULT_CONTAINER_TABLE_FORMAT + (size ? '\t{{.Size}}' : '');
  }
  if (source === 'raw') {
    if (quiet) return 'container_id: {{.ID}}';
    let f =
      'container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\n' +
      'state: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\n' +
      'labels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n';
    if (size) f += 'size: {{.Size}}\\n';
    return f;
  }
  return quiet ? '{{.ID}}' : source;
}

export const containerHeader = (): Record<string, unknown> =>
  headerContext({
    ID: 'CONTAINER ID',
    Names: 'NAMES',
    Image: 'IMAGE',
    Command: 'COMMAND',
    CreatedAt: 'CREATED AT',
    RunningFor: 'CREATED',
    Ports: 'PORTS',
    State: 'STATE',
    Status: 'STATUS',
    Size: 'SIZE',
    Labels: 'LABELS',
    Mounts: 'MOUNTS',
    LocalVolumes: 'LOCAL VOLUMES',
    Networks: 'NETWORKS',
    Platform: 'PLATFORM',
  });

function joinHostPort(ip: string, port: string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** formatter.DisplayablePorts: groups consecutive ports, lists host mappings last. */
export function displayablePorts(input: readonly Port[]): string {
  const ports = [...input].sort((a, b) => {
    if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
    const ai = a.IP ?? '';
    const bi = b.IP ?? '';
    if (ai !== bi) return ai < bi ? -1 : 1;
    if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
    return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
  });
  const groups = new Map<string, { first: number; last: number }>();
  const keys: string[] = [];
  const result: string[] = [];
  const hostMappings: string[] = [];
  const formGroup = (key: string, start: number, last: number): string => {
    const parts = key.split('/');
    let type = parts[0];
    let ip = '';
    if (parts.length > 1) {
      ip = parts[0];
      type = parts[1];
    }
    let group = String(start);
    if (start !== last) group = `${group}-${last}`;
    if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
    return `${group}/${type}`;
  };
  for (const p of ports) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(p.IP, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      keys.push(key);
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: current, last: current });
  }
  for (const k of keys) {
    const g = groups.get(k) as { first: number; last: number };
    result.push(formGroup(k, g.first, g.last));
  }
  return [...result, ...hostMappings].join(', ');
}

export class ContainerRow {
  /** Set when a template reads .Size (ps then asks the daemon for sizes). */
  sizeUsed = false;

  constructor(
    private readonly c: Partial<ContainerSummary>,
    private readonly trunc: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  ID(): string {
    const id = this.c.Id ?? '';
    return this.trunc ? truncateID(id) : id;
  }

  Names(): string {
    let names = (this.c.Names ?? []).map((n) => n.slice(1));
    if (this.trunc) {
      const plain = names.find((n) => n.split('/').length === 1);
      if (plain !== undefined) names = [plain];
    }
    return names.join(',');
  }

  Image(): string {
    const image = this.c.Image ?? '';
    if (image === '') return '<no image>';
    if (this.trunc) {
      const t = truncateID(this.c.ImageID ?? '');
      if (t === truncateID(image)) return t;
      try {
        const ref = parseNormalizedNamed(image);
        return familiarString(ref.tag !== undefined ? { ...ref, digest: undefined } : { ...ref, digest: undefined, tag: undefined });
      } catch {
        // not a reference: print as is
      }
    }
    return image;
  }

  Command(): string {
    let cmd = this.c.Command ?? '';
    if (this.trunc) cmd = ellipsis(cmd, 20);
    return goQuoteString(cmd);
  }

  CreatedAt(): string {
    return goTimeString(this.c.Created ?? 0);
  }

  RunningFor(): string {
    return humanDuration(this.now() - (this.c.Created ?? 0) * 1000) + ' ago';
  }

  Ports(): string {
    return displayablePorts(this.c.Ports ?? []);
  }

  State(): string {
    return this.c.State ?? '';
  }

  Status(): string {
    return this.c.Status ?? '';
  }

  Size(): string {
    this.sizeUsed = true;
    const srw = humanSizeWithPrecision(this.c.SizeRw ?? 0, 3);
    const rootfs = this.c.SizeRootFs ?? 0;
    return rootfs > 0 ? `${srw} (virtual ${humanSizeWithPrecision(rootfs, 3)})` : srw;
  }

  Labels(): string {
    const labels = this.c.Labels;
    if (!labels) return '';
    return Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join(',');
  }

  Label(name: string): string {
    return this.c.Labels?.[name] ?? '';
  }

  Mounts(): string {
    return (this.c.Mounts ?? [])
      .map((m) => {
        const name = m.Name ? m.Name : (m.Source ?? '');
        return this.trunc ? ellipsis(name, 15) : name;
      })
      .join(',');
  }

  LocalVolumes(): string {
    return String((this.c.Mounts ?? []).filter((m) => m.Driver === 'local').length);
  }

  Networks(): string {
    return Object.keys(this.c.NetworkSettings?.Networks ?? {}).join(',');
  }

  Platform(): unknown {
    return this.c.ImageManifestDescriptor?.platform ?? null;
  }

  /** `{{json .}}`: every no-argument method, keys sorted (formatter.MarshalJSON). */
  toJSON(): Record<string, unknown> {
    return {
      Command: this.Command(),
      CreatedAt: this.CreatedAt(),
      ID: this.ID(),
      Image: this.Image(),
      Labels: this.Labels(),
      LocalVolumes: this.LocalVolumes(),
      Mounts: this.Mounts(),
      Names: this.Names(),
      Networks: this.Networks(),
      Platform: this.Platform(),
      Ports: this.Ports(),
      RunningFor: this.RunningFor(),
      Size: this.Size(),
      State: this.State(),
      Status: this.Status(),
    };
  }
}
