/** Network records as Berth persists them (`<data-root>/networks/<id>.json`); Docker's field names where shown. */

export interface IpamConfigEntry {
  Subnet: string;
  IPRange?: string;
  Gateway?: string;
}

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Driver: 'bridge' | 'host' | 'null';
  EnableIPv6: boolean;
  Internal: boolean;
  Attachable: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamConfigEntry[] };
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** The bridge device (bridge driver only). */
  bridge?: string;
  /** The `bridge` network (predefined, cannot be removed, no DNS). */
  isDefault?: boolean;
  /** Allocated endpoints by container ID, written before any kernel object exists (IPAM across restarts). */
  endpoints: Record<string, EndpointRecord>;
}

export interface EndpointRecord {
  containerId: string;
  /** Container name without the slash (for inspect's Containers). */
  name: string;
  endpointId: string;
  ip: string;
  mac: string;
  /** Interface inside the container (eth0, eth1, …) and the host end of the veth pair. */
  ifname: string;
  hostIf: string;
  aliases: string[];
}

/** A published port as set up (after random host ports were chosen). */
export interface PublishedPort {
  proto: 'tcp' | 'udp' | 'sctp';
  containerPort: number;
  hostIp: string;
  hostPort: number;
}

/** What a running container's networking holds beyond the network records (`<data-root>/networks/sandboxes/<id>.json`). */
export interface SandboxRecord {
  containerId: string;
  pid: number;
  ports: PublishedPort[];
  /** Container address the published ports lead to. */
  portTarget?: string;
}

/** The per-container endpoint options a client sent (create's NetworkingConfig, connect's EndpointConfig). */
export interface EndpointSettingsIn {
  Aliases?: string[] | null;
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null;
  NetworkID?: string;
  [k: string]: unknown;
}
