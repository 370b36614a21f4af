import { invalidParameter } from '../../util/errors';
import type { RestartPolicy } from './types';

const INITIAL_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
/** A run at least this long resets the back-off, as Docker's restart manager does. */
const STABLE_RUN_MS = 10_000;

export function validateRestartPolicy(p: Partial<RestartPolicy> | undefined, autoRemove: boolean): RestartPolicy {
  const name = p?.Name ?? '';
  const max = p?.MaximumRetryCount ?? 0;
  if (!['', 'no', 'always', 'unless-stopped', 'on-failure'].includes(name)) {
    throw invalidParameter(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (max < 0) throw invalidParameter('invalid restart policy: maximum retry count cannot be negative');
  if (max > 0 && name !== 'on-failure') throw invalidParameter(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  if (autoRemove && name !== '' && name !== 'no') throw invalidParameter("can't create 'AutoRemove' container with restart policy");
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: max };
}

/** Whether an exit should be followed by a restart (moby's restart manager rules). */
export function shouldRestart(p: RestartPolicy, exitCode: number, restartCount: number, manuallyStopped: boolean): boolean {
  switch (p.Name) {
    case 'always':
      return !manuallyStopped;
    case 'unless-stopped':
      return !manuallyStopped;
    case 'on-failure':
      return !manuallyStopped && exitCode !== 0 && (p.MaximumRetryCount === 0 || restartCount < p.MaximumRetryCount);
    default:
      return false;
  }
}

/** Whether a container that is down when the daemon starts should be brought back. */
export function restartOnDaemonStart(p: RestartPolicy, exitCode: number, restartCount: number, manuallyStopped: boolean): boolean {
  if (p.Name === 'always') return true;
  return shouldRestart(p, exitCode, restartCount, manuallyStopped);
}

/** Exponential back-off between restarts: 100 ms doubling to 1 min, reset after a stable run. */
export class Backoff {
  private delay = 0;

  next(ranMs: number): number {
    if (ranMs >= STABLE_RUN_MS || this.delay === 0) this.delay = INITIAL_DELAY_MS;
    else this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    return this.delay;
  }
}
