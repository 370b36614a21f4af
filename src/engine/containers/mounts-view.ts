import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveInRoot } from '../../util/root-path';
import { run } from '../../util/proc';

export interface ViewBind {
  destination: string;
  source: string;
  readonly: boolean;
}

/**
 * A container's root file system assembled for the engine itself (cp, copy-up, commit on stopped
 * containers): the overlay and the container's volumes are mounted inside a private mount namespace
 * held by a small helper process, reached through `/proc/<pid>/root`. Nothing is mounted in the host's
 * namespace, and when the helper ends (close, or berthd dies and its stdin closes) the kernel drops
 * every mount with the namespace.
 */
export class RootfsView {
  private closed = false;

  private constructor(private readonly proc: ChildProcess, private readonly mountpoint: string) {}

  /** Host path that shows the assembled root. */
  get root(): string {
    return `/proc/${this.proc.pid}/root${this.mountpoint}`;
  }

  static async open(opts: { lowers: string[]; upper?: string; work?: string; binds?: ViewBind[]; tmpRoot?: string }): Promise<RootfsView> {
    const base = opts.tmpRoot ?? os.tmpdir();
    fs.mkdirSync(base, { recursive: true, mode: 0o700 });
    const mountpoint = fs.mkdtempSync(path.join(base, 'view-'));
    // Lower dirs by short relative names (links in a dir the mount runs in): the mount options must fit
    // in a page, which ~40 absolute layer paths already exceed.
    const links = `${mountpoint}.l`;
    fs.mkdirSync(links, { mode: 0o700 });
    opts.lowers.forEach((l, i) => fs.symlinkSync(l, path.join(links, String(i))));
    let lowerdir = opts.lowers.map((_, i) => String(i)).join(':');
    if (!(opts.upper && opts.work) && opts.lowers.length === 1) {
      // A read-only overlay needs two lower dirs: an empty one under the single layer.
      fs.mkdirSync(path.join(links, 'e'), { mode: 0o755 });
      lowerdir += ':e';
    }
    const options =
      opts.upper && opts.work ? `lowerdir=${lowerdir},upperdir=${opts.upper},workdir=${opts.work}` : `ro,lowerdir=${lowerdir}`;
    const proc = spawn(
      'unshare',
      ['-m', '--propagation', 'private', '--', 'sh', '-c', 'mount -t overlay overlay -o "$1" "$2" || exit 1; echo ready; read -r _', 'sh', options, mountpoint],
      { stdio: ['pipe', 'pipe', 'pipe'], cwd: links },
    );
    let stderr = '';
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.stdin!.on('error', () => undefined); // EPIPE when the helper is already gone
    proc.on('error', () => undefined);
    const ready = await new Promise<boolean>((resolve) => {
      proc.stdout!.once('data', () => resolve(true));
      proc.once('exit', () => resolve(false));
      proc.once('error', () => resolve(false));
    });
    fs.rmSync(links, { recursive: true, force: true }); // the mount holds the dirs themselves now
    if (!ready) {
      fs.rmSync(mountpoint, { recursive: true, force: true });
      throw new Error(`cannot mount the container's file system: ${stderr.trim()}`);
    }
    const view = new RootfsView(proc, mountpoint);
    try {
      for (const b of opts.binds ?? []) await view.bind(b);
    } catch (err) {
      await view.close();
      throw err;
    }
    return view;
  }

  /** Mounts `source` at `destination` inside the view (the destination resolved inside the root). */
  private async bind(b: ViewBind): Promise<void> {
    const resolved = resolveInRoot(this.root, b.destination, true);
    let isDir = true;
    try {
      isDir = fs.statSync(b.source).isDirectory();
    } catch {
      return; // a source that vanished: nothing to show
    }
    if (!fs.existsSync(resolved)) {
      if (isDir) fs.mkdirSync(resolved, { recursive: true, mode: 0o755 });
      else {
        fs.mkdirSync(path.dirname(resolved), { recursive: true, mode: 0o755 });
        fs.writeFileSync(resolved, '');
      }
    }
    const inside = resolved.slice(`/proc/${this.proc.pid}/root`.length) || '/';
    const pid = String(this.proc.pid);
    await run('nsenter', ['-t', pid, '-m', '--', 'mount', '--rbind', b.source, inside]);
    if (b.readonly) await run('nsenter', ['-t', pid, '-m', '--', 'mount', '-o', 'remount,bind,ro', inside]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise<void>((resolve) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) resolve();
      else this.proc.once('exit', () => resolve());
    });
    this.proc.stdin!.end('\n');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    try {
      fs.rmdirSync(this.mountpoint);
    } catch {
      /* already gone */
    }
  }
}
