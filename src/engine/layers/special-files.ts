import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Filesystem objects Node cannot create itself: device nodes, FIFOs, overlay whiteouts (char
 * device 0/0), extended attributes (the opaque-directory marker), and hard links to any of
 * those. They are queued while a layer is extracted and created in one child process per batch
 * (python3, which ships on our machines), or with one coreutils/attr command each when python3
 * is missing.
 */
export type SpecialOp =
  | {
      op: 'mknod';
      path: string;
      type: 'c' | 'b' | 'p';
      major: number;
      minor: number;
      mode: number;
      uid?: number;
      gid?: number;
      mtime?: number; // unix seconds
    }
  | { op: 'link'; path: string; target: string }
  | { op: 'xattr'; path: string; name: string; value: string /* base64 */; bestEffort?: boolean };

export type SpecialOpStrategy = 'python' | 'commands';

const PYTHON_APPLIER = `
import base64, errno, json, os, stat, sys
KINDS = {'c': stat.S_IFCHR, 'b': stat.S_IFBLK, 'p': stat.S_IFIFO}
for line in sys.stdin:
    if not line.strip():
        continue
    o = json.loads(line)
    p = o['path']
    try:
        if o['op'] == 'mknod':
            os.mknod(p, KINDS[o['type']] | (o['mode'] & 0o777), os.makedev(o['major'], o['minor']))
            if 'uid' in o:
                os.lchown(p, o['uid'], o['gid'])
            os.chmod(p, o['mode'])
            if 'mtime' in o:
                os.utime(p, (o['mtime'], o['mtime']), follow_symlinks=False)
        elif o['op'] == 'link':
            os.link(o['target'], p, follow_symlinks=False)
        elif o['op'] == 'xattr':
            try:
                os.setxattr(p, o['name'], base64.b64decode(o['value']), follow_symlinks=False)
            except OSError as e:
                # like Docker: attributes the file system or the kernel refuses are skipped
                if not (o.get('bestEffort') and e.errno in (errno.ENOTSUP, errno.EPERM)):
                    raise
    except OSError as e:
        sys.stderr.write('%s %s: %s\\n' % (o['op'], p, e.strerror))
        sys.exit(1)
`;

let pythonPath: string | null | undefined;

function findPython(): string | null {
  if (pythonPath !== undefined) return pythonPath;
  const dirs = ['/usr/bin', '/bin', '/usr/local/bin', ...(process.env.PATH ?? '').split(':')];
  pythonPath = null;
  for (const dir of dirs) {
    const candidate = path.join(dir, 'python3');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      pythonPath = candidate;
      break;
    } catch {
      // keep looking
    }
  }
  return pythonPath;
}

export function defaultStrategy(): SpecialOpStrategy {
  return findPython() ? 'python' : 'commands';
}

export async function runSpecialOps(ops: readonly SpecialOp[], strategy = defaultStrategy()): Promise<void> {
  if (ops.length === 0) return;
  if (strategy === 'python') {
    const input = ops.map((o) => JSON.stringify(o)).join('\n') + '\n';
    await run(findPython() ?? 'python3', ['-c', PYTHON_APPLIER], input);
    return;
  }
  for (const o of ops) {
    for (const [cmd, ...args] of commandsFor(o)) await run(cmd, args);
  }
}

function commandsFor(o: SpecialOp): string[][] {
  switch (o.op) {
    case 'link':
      return [['ln', '-P', '--', o.target, o.path]];
    case 'xattr':
      // (the commands fallback cannot tell refused attributes from other failures: best effort is python's)
      return [['setfattr', '-h', '-n', o.name, '-v', '0x' + Buffer.from(o.value, 'base64').toString('hex'), '--', o.path]];
    case 'mknod': {
      const mode = (o.mode & 0o7777).toString(8);
      const cmds =
        o.type === 'p'
          ? [['mkfifo', '-m', mode, '--', o.path]]
          : [['mknod', '-m', mode, '--', o.path, o.type, String(o.major), String(o.minor)]];
      if (o.uid !== undefined) {
        cmds.push(['chown', '-h', `${o.uid}:${o.gid ?? 0}`, '--', o.path]);
        cmds.push(['chmod', mode, '--', o.path]);
      }
      if (o.mtime !== undefined) cmds.push(['touch', '-h', '-d', `@${o.mtime}`, '--', o.path]);
      return cmds;
    }
  }
}

function run(cmd: string, args: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      const hint = cmd === 'setfattr' ? ' (setting extended attributes needs python3 or the attr package)' : '';
      reject(new Error(`cannot run ${cmd}: ${err.message}${hint}`));
    });
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(cmd)} failed: ${stderr.trim() || `exit code ${code}`}`));
    });
    child.stdin.on('error', () => undefined); // reported through the exit code instead
    child.stdin.end(input ?? '');
  });
}

/** The queue used while extracting one layer. */
export class SpecialFileQueue {
  private ops: SpecialOp[] = [];
  private readonly paths = new Set<string>();

  constructor(private readonly strategy: SpecialOpStrategy = defaultStrategy()) {}

  add(op: SpecialOp): void {
    this.ops.push(op);
    // An xattr goes on an object that already exists; only created paths can collide.
    if (op.op !== 'xattr') this.paths.add(op.path);
  }

  get size(): number {
    return this.ops.length;
  }

  /** True when `p` or one of its ancestors is waiting to be created. */
  touches(p: string): boolean {
    if (this.paths.size === 0) return false;
    for (let cur = p; ; cur = path.dirname(cur)) {
      if (this.paths.has(cur)) return true;
      if (cur === path.dirname(cur)) return false;
    }
  }

  isPending(p: string): boolean {
    return this.paths.has(p);
  }

  async flush(): Promise<void> {
    const ops = this.ops;
    this.ops = [];
    this.paths.clear();
    await runSpecialOps(ops, this.strategy);
  }
}
