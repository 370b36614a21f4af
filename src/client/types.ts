/** Docker Engine API v1.50 shapes used by the client (a subset; unknown fields pass through). */

export type Labels = Record<string, string>;

export interface Port {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export interface MountPoint {
  Type?: string;
  Name?: string;
  Source?: string;
  Destination?: string;
  Driver?: string;
  Mode?: string;
  RW?: boolean;
  Propagation?: string;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: Port[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Labels | null;
  State: string;
  Status: string;
  HostConfig?: { NetworkMode?: string; Annotations?: Labels };
  NetworkSettings?: { Networks?: Record<string, unknown> } | null;
  Mounts?: MountPoint[];
  ImageManifestDescriptor?: { platform?: Platform } | null;
  [key: string]: unknown;
}

export interface Platform {
  architecture?: string;
  os?: string;
  variant?: string;
  'os.version'?: string;
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  Image: string;
  Volumes: Record<string, Record<string, never>> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  OnBuild: string[] | null;
  Labels: Labels | null;
  StopSignal?: string;
  StopTimeout?: number;
  Shell?: string[];
  [key: string]: unknown;
}

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

export interface RestartPolicy {
  Name: string;
  MaximumRetryCount: number;
}

export interface HostConfig {
  Binds: string[] | null;
  ContainerIDFile: string;
  LogConfig: { Type: string; Config: Record<string, string> };
  NetworkMode: string;
  PortBindings: Record<string, PortBinding[]>;
  RestartPolicy: RestartPolicy;
  AutoRemove: boolean;
  VolumeDriver: string;
  VolumesFrom: string[] | null;
  ConsoleSize: [number, number];
  Annotations?: Labels;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  CgroupnsMode: string;
  Dns: string[];
  DnsOptions: string[];
  DnsSearch: string[];
  ExtraHosts: string[] | null;
  GroupAdd: string[] | null;
  IpcMode: string;
  Cgroup: string;
  Links: string[] | null;
  OomScoreAdj: number;
  PidMode: string;
  Privileged: boolean;
  PublishAllPorts: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[] | null;
  StorageOpt?: Record<string, string>;
  Tmpfs?: Record<string, string>;
  UTSMode: string;
  UsernsMode: string;
  ShmSize: number;
  Sysctls?: Record<string, string>;
  Runtime?: string;
  Isolation: string;
  Init?: boolean;
  Mounts?: unknown[];
  MaskedPaths: string[] | null;
  ReadonlyPaths: string[] | null;
  [key: string]: unknown;
}

export interface EndpointSettings {
  IPAMConfig: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  GwPriority: number;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
}

export interface NetworkingConfig {
  EndpointsConfig: Record<string, EndpointSettings>;
}

export type ContainerCreateBody = ContainerConfig & {
  HostConfig: HostConfig;
  NetworkingConfig: NetworkingConfig;
};

export interface CreateResponse {
  Id: string;
  Warnings: string[] | null;
}

export interface WaitResponse {
  StatusCode: number;
  Error?: { Message: string } | null;
}

export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: {
    Status: string;
    Running: boolean;
    Paused: boolean;
    Restarting: boolean;
    ExitCode: number;
    [key: string]: unknown;
  };
  Image: string;
  Name: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  [key: string]: unknown;
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Labels | null;
  Containers: number;
  [key: string]: unknown;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created?: string;
  Size: number;
  [key: string]: unknown;
}

export interface ComponentVersion {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}

export interface VersionResponse {
  Platform?: { Name: string };
  Components?: ComponentVersion[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
  [key: string]: unknown;
}

export interface SystemInfo {
  ID?: string;
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
  Driver?: string;
  DriverStatus?: [string, string][] | null;
  [key: string]: unknown;
}

/** One message of a JSON progress stream (pull, push, import, load, build). */
export interface JSONMessage {
  stream?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number; start?: number; units?: string; hidecounts?: boolean };
  progress?: string;
  id?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  errorDetail?: { code?: number; message?: string };
  error?: string;
  aux?: unknown;
}

/** Filters as the API wants them: name → value → true. */
export type Filters = Record<string, Record<string, boolean>>;

/** POST /containers/{id}/exec body. */
export interface ExecCreateConfig {
  User: string;
  Privileged: boolean;
  Tty: boolean;
  ConsoleSize?: [number, number];
  AttachStdin: boolean;
  AttachStderr: boolean;
  AttachStdout: boolean;
  Detach: boolean;
  DetachKeys: string;
  Env: string[] | null;
  WorkingDir: string;
  Cmd: string[];
}

export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ContainerID: string;
  Pid?: number;
  [key: string]: unknown;
}

/** One entry of DELETE /images/{name} and of ImagesDeleted. */
export interface ImageDeleteItem {
  Untagged?: string;
  Deleted?: string;
}

export interface ImageHistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export interface VolumeUsage {
  Name: string;
  Driver?: string;
  Mountpoint?: string;
  Labels?: Labels | null;
  Scope?: string;
  UsageData?: { Size: number; RefCount: number } | null;
  [key: string]: unknown;
}

export interface BuildCacheRecord {
  ID: string;
  Parents?: string[] | null;
  Type: string;
  Description?: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt?: string | null;
  UsageCount: number;
}

/** GET /system/df */
export interface DiskUsage {
  LayersSize: number;
  Images: ImageSummary[] | null;
  Containers: ContainerSummary[] | null;
  Volumes: VolumeUsage[] | null;
  BuildCache: BuildCacheRecord[] | null;
  BuilderSize?: number;
}

/** A path in a container as HEAD/GET /containers/{id}/archive describe it (X-Docker-Container-Path-Stat). */
export interface ContainerPathStat {
  name: string;
  size: number;
  /** Go's os.FileMode: permission bits plus type bits (2^31 a directory). */
  mode: number;
  mtime: string;
  linkTarget: string;
}
