/** Container records as Berth persists them; field names follow Docker's JSON so inspect is a projection. */
import type { MountPoint } from './mounts';

export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  [extra: string]: unknown;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount: number;
}

export interface HostConfig {
  AutoRemove: boolean;
  NetworkMode: string;
  RestartPolicy: RestartPolicy;
  ConsoleSize?: [number, number];
  Binds?: string[] | null;
  LogConfig: { Type: string; Config: Record<string, string> };
  [extra: string]: unknown;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** State.Health of a container with a healthcheck (health.ts keeps it). */
export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: HealthLogEntry[];
}

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: HealthState;
}

export interface ContainerRecord {
  Id: string;
  Name: string; // with the leading slash, as Docker stores it
  Created: string;
  Path: string;
  Args: string[];
  Image: string; // image ID, sha256:…
  ImageRef: string; // what the user asked for, shown by ps
  Config: ContainerConfig;
  HostConfig: HostConfig;
  State: ContainerState;
  RestartCount: number;
  /** Set once the container asked to stop by a user (restart policies look at it). */
  ManuallyStopped: boolean;
  /** Mounts resolved at create (mounts.ts): binds, volumes, tmpfs mounts; inspect's `Mounts` and the OCI mounts derive from them. */
  MountPoints?: MountPoint[];
  /** Networks the container is connected to, by name, with their endpoint options (create body, connect/disconnect). */
  NetworkingConfig?: { EndpointsConfig?: Record<string, Record<string, unknown>> | null; disconnected?: boolean };
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function freshState(): ContainerState {
  return {
    Status: 'created',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
  };
}
