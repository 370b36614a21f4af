import type { ContainerRecord } from './types';

/** How a container's network namespace is set up, decided before the runtime creates it. */
export interface NetworkPlan {
  /** Join an existing network namespace (`--network container:NAME`). */
  netnsPath?: string;
  /** Share the host's network namespace (`--network host`). */
  hostNetwork?: boolean;
  /** Lines added to the container's /etc/hosts (its own address, `--add-host`). */
  hostsEntries: string[];
  /** Content of the container's /etc/resolv.conf; undefined copies the host's. */
  resolvConf?: string;
}

/**
 * The seam between the container life cycle and networking. The container service calls these at fixed
 * points: `prepare` before the runtime creates the container, `attach` between create and start (the
 * namespace exists, the process has not run), `release` after the container exited, `remove` when the
 * container is deleted, and `settings` for inspect and list.
 */
export interface ContainerNetworking {
  prepare(c: ContainerRecord): Promise<NetworkPlan>;
  attach(c: ContainerRecord, pid: number): Promise<void>;
  release(c: ContainerRecord): Promise<void>;
  remove(c: ContainerRecord): Promise<void>;
  settings(c: ContainerRecord): { NetworkSettings: Record<string, unknown>; Ports: object[] };
  /** At create, before the record is stored: checks the networks asked for and normalises the record's endpoints. */
  validate?(c: ContainerRecord): Promise<void>;
}

/** No networks: every container gets a private network namespace with only `lo`. */
export class IsolatedNetworking implements ContainerNetworking {
  async prepare(): Promise<NetworkPlan> {
    return { hostsEntries: [] };
  }
  async attach(): Promise<void> {}
  async release(): Promise<void> {}
  async remove(): Promise<void> {}
  settings(): { NetworkSettings: Record<string, unknown>; Ports: object[] } {
    return {
      NetworkSettings: {
        Bridge: '',
        SandboxID: '',
        SandboxKey: '',
        Ports: {},
        HairpinMode: false,
        LinkLocalIPv6Address: '',
        LinkLocalIPv6PrefixLen: 0,
        SecondaryIPAddresses: null,
        SecondaryIPv6Addresses: null,
        EndpointID: '',
        Gateway: '',
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        IPAddress: '',
        IPPrefixLen: 0,
        IPv6Gateway: '',
        MacAddress: '',
        Networks: {},
      },
      Ports: [],
    };
  }
}
