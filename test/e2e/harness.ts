import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { seedBuiltinImages } from '../../src/daemon/seed-images';

const REPO = path.resolve(__dirname, '../../..');
export const IMAGES_DIR = path.join(REPO, 'dist/images');
const DAEMON_MAIN = path.join(REPO, 'dist/src/daemon/main.js');
const BERTH_MAIN = path.join(REPO, 'dist/src/cli/main.js');

export function dockerBinary(): string {
  for (const p of ['/usr/local/bin/docker', '/usr/bin/docker']) if (fs.existsSync(p)) return p;
  throw new Error('no docker CLI on this machine (scripts/install.sh installs one)');
}

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CmdOptions {
  input?: string | Buffer;
  /** Input written piece by piece after delays (a person typing), then stdin is closed. */
  typed?: Array<{ afterMs: number; data: string }>;
  env?: Record<string, string>;
  timeoutMs?: number;
}

function runCmd(file: string, args: string[], env: Record<string, string>, opts: CmdOptions): Promise<CmdResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: { ...env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    if (opts.typed) {
      void (async () => {
        for (const step of opts.typed!) {
          await sleep(step.afterMs);
          child.stdin.write(step.data);
        }
        child.stdin.end();
      })();
    } else if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/**
 * An isolated berthd for one test file: its own data root, exec root, socket and cgroup parent, seeded with the
 * built-in images. `stop()` removes every container and checks that nothing was left on the host.
 */
export class TestDaemon {
  readonly root: string;
  readonly socket: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly cgroupParent: string;
  /** Kernel object prefix (bridges, veths, iptables chains) and default-bridge subnet, unique per test daemon. */
  readonly networkPrefix: string;
  readonly bip: string;
  /** Extra environment for berthd (e.g. BERTH_RESOLV_CONF). */
  env: Record<string, string> = {};
  private proc?: ChildProcess;
  log = '';

  private constructor() {
    const tag = randomBytes(3).toString('hex');
    this.root = fs.mkdtempSync(`/tmp/bt${tag}-`);
    this.socket = path.join(this.root, 'b.sock');
    this.dataRoot = path.join(this.root, 'data');
    this.execRoot = path.join(this.root, 'exec');
    this.cgroupParent = `berth-test-${tag}`;
    this.networkPrefix = `bt${tag}`;
    const r = randomBytes(2);
    this.bip = `10.${100 + (r[0]! % 100)}.${r[1]!}.1/24`;
  }

  static async start(opts: { env?: Record<string, string>; args?: string[] } = {}): Promise<TestDaemon> {
    const d = new TestDaemon();
    d.env = opts.env ?? {};
    await d.launch(opts.args ?? []);
    await seedBuiltinImages(d.socket, IMAGES_DIR);
    return d;
  }

  get host(): string {
    return `unix://${this.socket}`;
  }

  args(): string[] {
    return ['-H', this.host, '--data-root', this.dataRoot, '--exec-root', this.execRoot, '--cgroup-parent', this.cgroupParent, '--network-prefix', this.networkPrefix, '--bip', this.bip];
  }

  async launch(extraArgs: string[] = []): Promise<void> {
    const proc = spawn(process.execPath, [DAEMON_MAIN, ...this.args(), ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } });
    this.proc = proc;
    proc.stdout!.on('data', (c: Buffer) => (this.log += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (this.log += c.toString()));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`berthd exited with ${proc.exitCode}:\n${this.log}`);
      if (await this.ping()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`berthd did not come up:\n${this.log}`);
  }

  ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const req = http.request({ socketPath: this.socket, path: '/_ping' }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
  }

  /** A raw API call; returns status, headers and the body text. */
  api(method: string, urlPath: string, body?: unknown): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const req = http.request(
        { socketPath: this.socket, method, path: urlPath, headers: data !== undefined ? { 'Content-Type': 'application/json' } : {} },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        },
      );
      req.on('error', reject);
      // A hung daemon fails the test (and its clean-up) within a minute instead of at the runner's timeout.
      req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${urlPath}: no answer within 60 s`)));
      req.end(data);
    });
  }

  docker(args: string[], opts: CmdOptions = {}): Promise<CmdResult> {
    return runCmd(dockerBinary(), args, this.clientEnv(), opts);
  }

  /** A docker command that must succeed; its stdout. */
  async dockerOk(args: string[], opts: CmdOptions = {}): Promise<string> {
    const r = await this.docker(args, opts);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited with ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /**
   * Runs the same arguments through the docker CLI and berth against this daemon and asserts the same
   * exit code, stdout (compared after `normalize`) and stderr (with "docker" read as "berth"); berth's result.
   */
  async sameAsDocker(args: string[], input?: string | Buffer, normalize: (out: string) => string = (s) => s): Promise<CmdResult> {
    const dk = await this.docker(args, { input });
    const bt = await this.berth(args, { input });
    assert.equal(bt.code, dk.code, `exit code of ${args.join(' ')}: ${bt.stderr}`);
    assert.equal(normalize(bt.stdout), normalize(dk.stdout), `stdout of ${args.join(' ')}`);
    assert.equal(bt.stderr, dk.stderr.replace(/docker/g, 'berth'), `stderr of ${args.join(' ')}`);
    return bt;
  }

  berth(args: string[], opts: CmdOptions = {}): Promise<CmdResult> {
    return runCmd(process.execPath, ['--', BERTH_MAIN, ...args], this.clientEnv(), opts);
  }

  /** Runs a docker command under a pseudo-terminal (script(1)), for -t tests. */
  dockerTty(cmdline: string, opts: CmdOptions = {}): Promise<CmdResult> {
    return runCmd('script', ['-qfec', `${dockerBinary()} ${cmdline}`, '/dev/null'], this.clientEnv(), opts);
  }

  clientEnv(): Record<string, string> {
    const configDir = path.join(this.root, 'client-config');
    fs.mkdirSync(configDir, { recursive: true });
    return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.root, DOCKER_HOST: this.host, DOCKER_CONFIG: configDir };
  }

  /** kill -9 of berthd: containers must survive. */
  async kill9(): Promise<void> {
    const p = this.proc!;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  async terminate(): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return p?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill('SIGTERM');
    return exited;
  }

  /** Removes every container, stops the daemon, and reports anything it left on the host. */
  async stop(): Promise<string[]> {
    const leaks: string[] = [];
    if (this.proc && this.proc.exitCode === null) {
      try {
        const list = await this.api('GET', '/containers/json?all=1');
        for (const c of JSON.parse(list.body) as Array<{ Id: string }>) await this.api('DELETE', `/containers/${c.Id}?force=1`);
      } catch (err) {
        leaks.push(`clean-up failed: ${(err as Error).message}`);
      }
      const p = this.proc;
      const killer = setTimeout(() => p.kill('SIGKILL'), 30_000);
      await this.terminate();
      clearTimeout(killer);
    }
    leaks.push(...this.leaks());
    spawnSync('umount', ['-R', this.root], { stdio: 'ignore' });
    fs.rmSync(this.root, { recursive: true, force: true });
    return leaks;
  }

  /** Monitors, cgroups and mounts that still belong to this daemon. */
  leaks(): string[] {
    const out: string[] = [];
    for (const pid of fs.readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p))) {
      try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmd.includes(this.execRoot)) out.push(`process ${pid}: ${cmd.replace(/\0/g, ' ').slice(0, 120)}`);
      } catch {
        /* gone */
      }
    }
    for (const ctrl of safeReaddir('/sys/fs/cgroup')) {
      if (fs.existsSync(path.join('/sys/fs/cgroup', ctrl, this.cgroupParent))) out.push(`cgroup ${ctrl}/${this.cgroupParent}`);
    }
    for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
      if (line.includes(this.root)) out.push(`mount ${line}`);
    }
    out.push(...this.networkLeaks());
    return out;
  }

  /** Links (bridges, veths) and iptables rules/chains carrying this daemon's network prefix. */
  networkLeaks(): string[] {
    const out: string[] = [];
    const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout ?? '';
    for (const line of links.split('\n')) {
      const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1];
      if (name?.startsWith(this.networkPrefix)) out.push(`link ${name}`);
    }
    const rules = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout ?? '';
    const chain = `${this.networkPrefix.toUpperCase()}-`;
    for (const line of rules.split('\n')) if (line.includes(chain)) out.push(`iptables ${line}`);
    return out;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or the time runs out. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

/** The body of an HTTP GET (a container's httpd through a published port). */
export function httpGet(host: string, port: number, urlPath = '/hostname', timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: urlPath, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}
