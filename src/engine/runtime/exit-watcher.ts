import * as fs from 'node:fs';
import * as path from 'node:path';

/** Watches conmon's exit directory and reports `<id>` → exit code as exit files appear. */
export class ExitWatcher {
  private watcher?: fs.FSWatcher;
  private handlers = new Map<string, (code: number) => void>();

  constructor(private readonly dir: string) {}

  start(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    this.watcher = fs.watch(this.dir, (_event, filename) => {
      if (filename) this.check(filename.toString());
    });
  }

  stop(): void {
    this.watcher?.close();
  }

  /** Registers interest in one container's exit; fires at once if the exit file is already there. */
  watch(id: string, handler: (code: number) => void): void {
    this.handlers.set(id, handler);
    this.check(id);
  }

  unwatch(id: string): void {
    this.handlers.delete(id);
  }

  readExitCode(id: string): number | undefined {
    try {
      const text = fs.readFileSync(path.join(this.dir, id), 'utf8').trim();
      if (text === '') return undefined;
      const code = Number(text);
      return Number.isFinite(code) ? code : undefined;
    } catch {
      return undefined;
    }
  }

  clear(id: string): void {
    fs.rmSync(path.join(this.dir, id), { force: true });
  }

  private check(id: string): void {
    const handler = this.handlers.get(id);
    if (!handler) return;
    const code = this.readExitCode(id);
    if (code === undefined) return;
    this.handlers.delete(id);
    handler(code);
  }
}
