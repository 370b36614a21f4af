/** Row context for volume formats, `volume ls` and `system df -v` (docker's formatter volumeContext). */
import type { VolumeUsage } from '../../client';
import { headerContext } from './table';
import { humanSize } from './units';

/** Links and Size are "N/A" unless the volume comes with UsageData (system df). */
export class VolumeRow {
  constructor(private readonly v: VolumeUsage) {}
  Name(): string {
    return this.v.Name;
  }
  Driver(): string {
    return this.v.Driver ?? '';
  }
  Scope(): string {
    return this.v.Scope ?? '';
  }
  Mountpoint(): string {
    return this.v.Mountpoint ?? '';
  }
  Labels(): string {
    return Object.entries(this.v.Labels ?? {})
      .map(([k, val]) => `${k}=${val}`)
      .join(',');
  }
  Label(name: string): string {
    return this.v.Labels?.[name] ?? '';
  }
  Links(): string {
    return this.v.UsageData ? String(this.v.UsageData.RefCount) : 'N/A';
  }
  Size(): string {
    return this.v.UsageData ? humanSize(this.v.UsageData.Size) : 'N/A';
  }
  Group(): string {
    return 'N/A';
  }
  Availability(): string {
    return 'N/A';
  }
  Status(): string {
    return 'N/A';
  }
  toJSON(): Record<string, unknown> {
    return {
      Availability: this.Availability(),
      Driver: this.Driver(),
      Group: this.Group(),
      Labels: this.Labels(),
      Links: this.Links(),
      Mountpoint: this.Mountpoint(),
      Name: this.Name(),
      Scope: this.Scope(),
      Size: this.Size(),
      Status: this.Status(),
    };
  }
}

export const volumeHeader = (): Record<string, unknown> =>
  headerContext({
    Name: 'VOLUME NAME',
    Driver: 'DRIVER',
    Scope: 'SCOPE',
    Mountpoint: 'MOUNTPOINT',
    Labels: 'LABELS',
    Links: 'LINKS',
    Size: 'SIZE',
    Group: 'GROUP',
    Availability: 'AVAILABILITY',
    Status: 'STATUS',
  });
