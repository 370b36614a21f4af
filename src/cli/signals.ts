/** Signal forwarding to containers and TTY size propagation (docker's signals.go and tty.go). */
import type { Cli } from './cli';

/** Signals a Node process can catch and docker forwards (all but SIGCHLD, SIGPIPE, SIGURG). */
const FORWARDED: NodeJS.Signals[] = [
  'SIGABRT', 'SIGALRM', 'SIGCONT', 'SIGHUP', 'SIGINT', 'SIGIO', 'SIGPROF', 'SIGPWR', 'SIGQUIT',
  'SIGSYS', 'SIGTERM', 'SIGTRAP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGUSR1', 'SIGUSR2',
  'SIGVTALRM', 'SIGWINCH', 'SIGXCPU', 'SIGXFSZ',
];

/** Forwards received signals as POST /containers/{id}/kill?signal=NAME; returns a stop function. */
export function forwardSignals(cli: Cli, id: string, proc: NodeJS.Process = process): () => void {
  const handlers: [NodeJS.Signals, () => void][] = [];
  for (const sig of FORWARDED) {
    const handler = () => {
      cli.client.containerKill(id, sig.slice(3)).catch(() => undefined);
    };
    try {
      proc.on(sig, handler);
      handlers.push([sig, handler]);
    } catch {
      // signal not supported on this platform
    }
  }
  return () => {
    for (const [sig, h] of handlers) proc.off(sig, h);
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends the local terminal size; retries up to 10 times, like docker's initTtySize. */
export async function initTtySize(cli: Cli, resize: (h: number, w: number) => Promise<void>): Promise<void> {
  const attempt = async (): Promise<boolean> => {
    const [h, w] = cli.ttySize();
    if (h === 0 && w === 0) return true;
    try {
      await resize(h, w);
      return true;
    } catch {
      return false;
    }
  };
  if (await attempt()) return;
  for (let retry = 0; retry < 10; retry++) {
    await sleep((retry + 1) * 10);
    if (await attempt()) return;
  }
  cli.err('failed to resize tty, using default size\n');
}

/** Resizes now and on every SIGWINCH; returns a stop function. */
export function monitorTtySize(cli: Cli, resize: (h: number, w: number) => Promise<void>, proc: NodeJS.Process = process): () => void {
  void initTtySize(cli, resize);
  const onWinch = () => {
    const [h, w] = cli.ttySize();
    if (h === 0 && w === 0) return;
    resize(h, w).catch(() => undefined);
  };
  proc.on('SIGWINCH', onWinch);
  return () => proc.off('SIGWINCH', onWinch);
}
