import { run } from '../../util/proc';

/** Thin wrapper over the OCI runtime's command line, with its own state root so daemons never share it. */
export class Runc {
  constructor(readonly binary: string, readonly root: string) {}

  private exec(args: string[]) {
    return run(this.binary, ['--root', this.root, ...args]);
  }

  start(id: string) {
    return this.exec(['start', id]);
  }
  kill(id: string, signal: string, all = false) {
    return this.exec(['kill', ...(all ? ['--all'] : []), id, signal]);
  }
  pause(id: string) {
    return this.exec(['pause', id]);
  }
  resume(id: string) {
    return this.exec(['resume', id]);
  }
  async delete(id: string, force = false): Promise<void> {
    try {
      await this.exec(['delete', ...(force ? ['--force'] : []), id]);
    } catch (err) {
      if (!/does not exist|not exist/.test((err as Error).message)) throw err;
    }
  }
  update(id: string, flags: string[]) {
    return this.exec(['update', ...flags, id]);
  }
  async state(id: string): Promise<{ status: string; pid: number } | undefined> {
    try {
      const { stdout } = await this.exec(['state', id]);
      return JSON.parse(stdout) as { status: string; pid: number };
    } catch {
      return undefined;
    }
  }
}
