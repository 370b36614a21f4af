import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContainerService } from '../engine/containers/service';
import { ExecService } from '../engine/containers/exec';
import { HealthMonitor } from '../engine/containers/health';
import { ContainerStore } from '../engine/containers/store';
import { NetworkManager } from '../engine/network/manager';
import { EventBus } from '../engine/events/bus';
import { OomWatcher } from '../engine/events/oom-watch';
import { wireVolumeMountEvents, type VolumeMountLike } from '../engine/events/volume-events';
import { ImageService } from '../engine/images/service';
import { ContainerRuntime } from '../engine/runtime/runtime';
import { OverlaySnapshotter } from '../engine/snapshots/overlay';
import { ENGINE_VERSION } from '../api/http/context';
import type { DaemonConfig } from './config';
import { VolumeService } from '../engine/volumes/service';
import { FILE_CHANGING_ACTIONS, isActive } from '../engine/containers/sizes';
import { ContainerArchive } from '../engine/containers/archive';
import { ContainerCommits } from '../engine/containers/commit';
import { volumeNamesOf } from '../engine/containers/mounts';
import { StatsService } from '../engine/containers/stats';
import { containerTop, type TopResponse } from '../engine/containers/top';
import { CgroupStatsReader } from '../engine/runtime/cgroup-stats';

/** The engine's services, wired together by `open`; the API routes talk only to these. */
export interface EngineServices {
  images: ImageService;
  containers: ContainerService;
  execs: ExecService;
  runtime: ContainerRuntime;
  events: EventBus;
  /** Networks, container networking and published ports. */
  networks: NetworkManager;
  /** Volumes (local driver). */
  volumes: VolumeService;
  /** docker cp and export. */
  archive: ContainerArchive;
  commits: ContainerCommits;
  /** docker stats: cgroup samples. */
  stats: StatsService;
  health: HealthMonitor;
}

export class Engine {
  readonly images: ImageService;
  readonly containers: ContainerService;
  readonly execs: ExecService;
  readonly runtime: ContainerRuntime;
  readonly events: EventBus;
  readonly networks: NetworkManager;
  readonly volumes: VolumeService;
  readonly archive: ContainerArchive;
  readonly commits: ContainerCommits;
  readonly stats: StatsService;
  private readonly health: HealthMonitor;
  /** One reader of cgroup files, shared by stats and top. */
  private readonly cgroups: CgroupStatsReader;

  private constructor(
    readonly config: DaemonConfig,
    s: EngineServices,
    cgroups: CgroupStatsReader,
  ) {
    ({ images: this.images, containers: this.containers, execs: this.execs, runtime: this.runtime, events: this.events } = s);
    ({ networks: this.networks, volumes: this.volumes, archive: this.archive, commits: this.commits, stats: this.stats, health: this.health } = s);
    this.cgroups = cgroups;
  }

  static async open(config: DaemonConfig): Promise<Engine> {
    fs.mkdirSync(config.dataRoot, { recursive: true, mode: 0o711 });
    fs.mkdirSync(config.execRoot, { recursive: true, mode: 0o700 });
    const events = new EventBus();
    const images = await ImageService.open(config.dataRoot, { events: (action, id, attrs) => events.publish('image', action, id, attrs) });
    const runtime = new ContainerRuntime({
      execRoot: config.execRoot,
      runtimeBinary: config.runtime,
      conmonBinary: config.conmon,
      cgroupParent: config.cgroupParent,
    });
    runtime.init();
    const store = new ContainerStore(path.join(config.dataRoot, 'containers'));
    store.load();
    events.setContainerResolver((id) => store.find(id));
    new OomWatcher(events, (id) => runtime.paths.persistDir(id)).watchAll(store.all().filter((c) => c.State.Running).map((c) => c.Id));
    wireVolumeMountEvents(events, (id) => (store.find(id) as { MountPoints?: VolumeMountLike[] } | undefined)?.MountPoints ?? []);
    const snapshots = new OverlaySnapshotter(path.join(config.dataRoot, 'snapshots'));
    const networks = new NetworkManager({
      dataRoot: config.dataRoot,
      prefix: config.networkPrefix,
      bip: config.bip,
      bridge: config.bridge,
      icc: config.icc,
      mtu: config.mtu,
      containers: { find: (r) => store.find(r), all: () => store.all(), save: (c) => store.save(c) },
      events: (action, id, attrs) => events.publish('network', action, id, attrs),
      hostResolvConf: process.env.BERTH_RESOLV_CONF,
    });
    await networks.init();
    const volumes = new VolumeService(path.join(config.dataRoot, 'volumes'), (action, name, attrs) => events.publish('volume', action, name, attrs));
    volumes.setUsers(() => store.all().map((c) => ({ id: c.Id, volumes: volumeNamesOf(c), running: isActive(c) })));
    events.subscribe((ev) => {
      if (ev.Type === 'container' && FILE_CHANGING_ACTIONS.has(ev.Action)) volumes.forgetSizes();
    });
    const containers = new ContainerService({ networking: networks, store, runtime, images, snapshots, events, volumes });
    await containers.reconcile();
    await networks.afterReconcile();
    await connectImageUsage(images, containers, events);
    const execs = new ExecService(store, runtime, events);
    const health = new HealthMonitor(store, execs, events);
    health.init();
    const archive = new ContainerArchive({ store, snapshots, images, runtime, volumes, events, lock: (id, fn) => containers.withLock(id, fn) });
    const commits = new ContainerCommits({
      store, snapshots, images, events, pause: (id) => containers.pause(id), unpause: (id) => containers.unpause(id),
    });
    const cgroups = new CgroupStatsReader();
    const stats = new StatsService(
      { get: (ref) => store.get(ref), find: (id) => store.find(id), cgroupsPath: (id) => runtime.cgroupsPath(id), events },
      cgroups,
    );
    return new Engine(config, { images, containers, execs, runtime, events, networks, volumes, archive, commits, stats, health }, cgroups);
  }

  /** `top`: ps over the pids of the container's cgroup tree (moby's ContainerTop), then the `top` event. */
  async top(ref: string, psArgs: string): Promise<TopResponse> {
    const c = this.containers.get(ref);
    const list = await containerTop(c, psArgs, (rec) => this.cgroups.pids(this.runtime.cgroupsPath(rec.Id)));
    this.events.container(c, 'top');
    return list;
  }

  async shutdown(): Promise<void> {
    this.health.shutdown();
    await this.containers.settle();
    await this.networks.shutdown();
    this.runtime.shutdown();
  }

  info(): object {
    const counts = this.containers.count();
    return {
      ID: this.config.engineId,
      Containers: counts.total,
      ContainersRunning: counts.running,
      ContainersPaused: counts.paused,
      ContainersStopped: counts.stopped,
      Images: this.images.count(),
      Driver: 'overlay2',
      DriverStatus: [
        ['Backing Filesystem', 'extfs'],
        ['Supports d_type', 'true'],
        ['Using metacopy', 'false'],
        ['Native Overlay Diff', 'true'],
        ['userxattr', 'false'],
      ],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file', 'local'] },
      MemoryLimit: true,
      SwapLimit: true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      Debug: this.config.logLevel === 'debug',
      NFd: countFds(),
      OomKillDisable: true,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: cgroupVersion(),
      NEventsListener: 0,
      KernelVersion: os.release(),
      OperatingSystem: operatingSystem(),
      OSVersion: osVersion(),
      OSType: 'linux',
      Architecture: os.machine(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: ['127.0.0.0/8'], Mirrors: [] },
      NCPU: os.cpus().length,
      MemTotal: os.totalmem(),
      GenericResources: null,
      DockerRootDir: this.config.dataRoot,
      HttpProxy: process.env.HTTP_PROXY ?? '',
      HttpsProxy: process.env.HTTPS_PROXY ?? '',
      NoProxy: process.env.NO_PROXY ?? '',
      Name: os.hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: ENGINE_VERSION,
      Runtimes: { runc: { path: this.config.runtime } },
      DefaultRuntime: 'runc',
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: 'catatonit',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: '' },
      InitCommit: { ID: '' },
      SecurityOptions: ['name=seccomp,profile=builtin'],
      CDISpecDirs: [],
      Warnings: [],
    };
  }
}

/**
 * Tells the image store which containers use which image (rmi conflicts, system df) and lets it
 * drop images that were force-removed while a container still needed their layers.
 */
async function connectImageUsage(images: ImageService, containers: ContainerService, events: EventBus): Promise<void> {
  images.setUsage({
    containers: () =>
      (containers.list({ all: true, filters: {} }) as { Id: string; ImageID: string; State: string }[]).map((c) => ({
        id: c.Id,
        imageId: c.ImageID,
        running: c.State === 'running' || c.State === 'paused' || c.State === 'restarting',
      })),
    sizeRw: (id) => containers.sizeRw(id),
  });
  await images.releaseRetained();
  events.subscribe((ev) => {
    if (ev.Type === 'container' && ev.Action === 'destroy') void images.releaseRetained();
  });
}

function cgroupVersion(): string {
  return fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1';
}

function countFds(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

function readOsRelease(): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    for (const line of fs.readFileSync('/etc/os-release', 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line);
      if (m) out[m[1]!] = m[2]!.replace(/^"|"$/g, '');
    }
  } catch {
    /* unknown OS */
  }
  return out;
}

function operatingSystem(): string {
  return readOsRelease().PRETTY_NAME ?? 'Linux';
}
function osVersion(): string {
  return readOsRelease().VERSION_ID ?? '';
}
