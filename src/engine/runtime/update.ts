import { invalidParameter } from '../../util/errors';

/** The resource fields of POST /containers/{id}/update that a running container can change. */
export interface ResourceUpdate {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  NanoCpus?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
}

export const UPDATABLE_RESOURCES: Array<keyof ResourceUpdate> = [
  'Memory', 'MemorySwap', 'MemoryReservation', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'NanoCpus', 'CpusetCpus', 'CpusetMems', 'PidsLimit',
];

/** `runc update` flags for a resource change; memory always travels with its swap limit (v1 rejects one alone). */
export function runcUpdateArgs(u: ResourceUpdate, current: ResourceUpdate): string[] {
  const args: string[] = [];
  if (u.NanoCpus && (u.CpuQuota || u.CpuPeriod)) {
    throw invalidParameter('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  if (u.Memory !== undefined && u.Memory > 0) {
    if (u.Memory < 6 * 1024 * 1024) throw invalidParameter('Minimum memory limit allowed is 6MB');
    const swap = u.MemorySwap ?? (current.MemorySwap && current.MemorySwap > 0 ? Math.max(current.MemorySwap, u.Memory) : u.Memory * 2);
    if (swap > 0 && swap < u.Memory) throw invalidParameter('Minimum memoryswap limit should be larger than memory limit, see usage');
    args.push('--memory', String(u.Memory), '--memory-swap', String(swap));
  } else if (u.MemorySwap !== undefined && u.MemorySwap !== 0) {
    args.push('--memory-swap', String(u.MemorySwap));
  }
  if (u.MemoryReservation) args.push('--memory-reservation', String(u.MemoryReservation));
  if (u.CpuShares) args.push('--cpu-share', String(u.CpuShares));
  if (u.NanoCpus) args.push('--cpu-period', '100000', '--cpu-quota', String(Math.round((u.NanoCpus * 100000) / 1e9)));
  if (u.CpuPeriod) args.push('--cpu-period', String(u.CpuPeriod));
  if (u.CpuQuota) args.push('--cpu-quota', String(u.CpuQuota));
  if (u.CpusetCpus) args.push('--cpuset-cpus', u.CpusetCpus);
  if (u.CpusetMems) args.push('--cpuset-mems', u.CpusetMems);
  if (u.PidsLimit !== undefined && u.PidsLimit !== null && u.PidsLimit !== 0) args.push('--pids-limit', String(u.PidsLimit));
  return args;
}
