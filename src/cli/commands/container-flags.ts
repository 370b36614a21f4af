/** The container configuration flags shared by `run` and `create` (docker's addFlags). */
import { FlagDef } from '../flags';

/** go-units RAMInBytes (binary multiples). */
export function ramInBytes(s: string): number {
  const m = /^(.*?[0-9. ])([^0-9. ]*)$/.exec(s);
  if (!m) throw new Error(`invalid size: '${s}'`);
  let num = m[1];
  if (num.endsWith(' ')) num = num.slice(0, -1);
  const size = Number(num);
  if (num.trim() === '' || Number.isNaN(size)) throw new Error(`strconv.ParseFloat: parsing "${num}": invalid syntax`);
  const sfx = m[2].toLowerCase();
  if (sfx === '') return Math.trunc(size);
  const bad = () => new Error(`invalid suffix: '${m[2]}'`);
  if (sfx.length > 3) throw bad();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return Math.trunc(size);
  }
  const mul: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  if (!(sfx[0] in mul)) throw bad();
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return Math.trunc(size * mul[sfx[0]]);
}

export function validateBytes(v: string): string {
  ramInBytes(v);
  return v;
}

const STREAMS = new Set(['stdin', 'stdout', 'stderr']);

export function validateAttach(v: string): string {
  const s = v.toLowerCase();
  if (STREAMS.has(s)) return s;
  throw new Error('valid streams are STDIN, STDOUT and STDERR');
}

/** opts.ValidateEnv: `KEY` alone takes the value from the local environment, if set. */
export function validateEnv(v: string, env: NodeJS.ProcessEnv = process.env): string {
  const eq = v.indexOf('=');
  const key = eq >= 0 ? v.slice(0, eq) : v;
  if (key === '') throw new Error(`invalid environment variable: ${v}`);
  if (eq >= 0) return v;
  const local = env[key];
  return local !== undefined ? `${key}=${local}` : v;
}

export function validateLabel(v: string): string {
  const eq = v.indexOf('=');
  const key = (eq >= 0 ? v.slice(0, eq) : v).trim();
  if (key === '') throw new Error(`invalid label '${v}': empty name`);
  return v;
}

export function validateExtraHost(v: string): string {
  const sep = v.indexOf('=') >= 0 ? v.indexOf('=') : v.indexOf(':');
  if (sep <= 0) throw new Error(`bad format for add-host: "${v}"`);
  return v;
}

function checkEnvKey(v: string): string {
  if (v.split('=')[0] === '') throw new Error(`invalid environment variable: ${v}`);
  return v;
}

export const CONTAINER_FLAGS: FlagDef[] = [
  { name: 'add-host', type: 'list', usage: 'Add a custom host-to-IP mapping (host:ip)', validate: validateExtraHost },
  { name: 'annotation', type: 'map', usage: 'Add an annotation to the container (passed through to the OCI runtime)', defaultText: 'map[]' },
  { name: 'attach', short: 'a', type: 'list', usage: 'Attach to STDIN, STDOUT or STDERR', validate: validateAttach },
  { name: 'blkio-weight', type: 'uint', varName: 'uint16', usage: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
  { name: 'blkio-weight-device', type: 'list', usage: 'Block IO weight (relative device weight)', defaultText: '[]' },
  { name: 'cap-add', type: 'list', usage: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'list', usage: 'Drop Linux capabilities' },
  { name: 'cgroup-parent', type: 'string', usage: 'Optional parent cgroup for the container' },
  {
    name: 'cgroupns',
    type: 'string',
    usage:
      "Cgroup namespace to use (host|private)\n'host':    Run the container in the Docker host's cgroup namespace\n" +
      "'private': Run the container in its own private cgroup namespace\n" +
      "'':        Use the cgroup namespace as configured by the\n           default-cgroupns-mode option on the daemon (default)",
  },
  { name: 'cidfile', type: 'string', usage: 'Write the container ID to the file' },
  { name: 'cpu-count', type: 'int', usage: 'CPU count (Windows only)' },
  { name: 'cpu-percent', type: 'int', usage: 'CPU percent (Windows only)' },
  { name: 'cpu-period', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { name: 'cpu-quota', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { name: 'cpu-rt-period', type: 'int', usage: 'Limit CPU real-time period in microseconds' },
  { name: 'cpu-rt-runtime', type: 'int', usage: 'Limit CPU real-time runtime in microseconds' },
  { name: 'cpu-shares', short: 'c', type: 'int', usage: 'CPU shares (relative weight)' },
  { name: 'cpus', type: 'string', varName: 'decimal', usage: 'Number of CPUs' },
  { name: 'cpuset-cpus', type: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'cpuset-mems', type: 'string', usage: 'MEMs in which to allow execution (0-3, 0,1)' },
  { name: 'device', type: 'list', usage: 'Add a host device to the container' },
  { name: 'device-cgroup-rule', type: 'list', usage: 'Add a rule to the cgroup allowed devices list' },
  { name: 'device-read-bps', type: 'list', usage: 'Limit read rate (bytes per second) from a device', defaultText: '[]' },
  { name: 'device-read-iops', type: 'list', usage: 'Limit read rate (IO per second) from a device', defaultText: '[]' },
  { name: 'device-write-bps', type: 'list', usage: 'Limit write rate (bytes per second) to a device', defaultText: '[]' },
  { name: 'device-write-iops', type: 'list', usage: 'Limit write rate (IO per second) to a device', defaultText: '[]' },
  { name: 'disable-content-trust', type: 'bool', usage: 'Skip image verification', default: true },
  { name: 'dns', type: 'list', usage: 'Set custom DNS servers' },
  { name: 'dns-opt', type: 'list', usage: 'Set DNS options', hidden: true },
  { name: 'dns-option', type: 'list', usage: 'Set DNS options' },
  { name: 'dns-search', type: 'list', usage: 'Set custom DNS search domains' },
  { name: 'domainname', type: 'string', usage: 'Container NIS domain name' },
  { name: 'entrypoint', type: 'string', usage: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'env', short: 'e', type: 'list', usage: 'Set environment variables', validate: checkEnvKey },
  { name: 'env-file', type: 'list', usage: 'Read in a file of environment variables' },
  { name: 'expose', type: 'list', usage: 'Expose a port or a range of ports' },
  { name: 'gpus', type: 'string', varName: 'gpu-request', usage: "GPU devices to add to the container ('all' to pass all GPUs)" },
  { name: 'group-add', type: 'list', usage: 'Add additional groups to join' },
  { name: 'health-cmd', type: 'string', usage: 'Command to run to check health' },
  { name: 'health-interval', type: 'duration', usage: 'Time between running the check (ms|s|m|h) (default 0s)' },
  { name: 'health-retries', type: 'int', usage: 'Consecutive failures needed to report unhealthy' },
  {
    name: 'health-start-interval',
    type: 'duration',
    usage: 'Time between running the check during the start period (ms|s|m|h) (default 0s)',
  },
  {
    name: 'health-start-period',
    type: 'duration',
    usage: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)',
  },
  { name: 'health-timeout', type: 'duration', usage: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  { name: 'help', type: 'bool', usage: 'Print usage' },
  { name: 'hostname', short: 'h', type: 'string', usage: 'Container host name' },
  { name: 'init', type: 'bool', usage: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even if not attached' },
  { name: 'io-maxbandwidth', validate: validateBytes, type: 'string', varName: 'bytes', usage: 'Maximum IO bandwidth limit for the system drive (Windows only)' },
  { name: 'io-maxiops', type: 'uint', usage: 'Maximum IOps limit for the system drive (Windows only)' },
  { name: 'ip', type: 'string', usage: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'ip6', type: 'string', usage: 'IPv6 address (e.g., 2001:db8::33)' },
  { name: 'ipc', type: 'string', usage: 'IPC mode to use' },
  { name: 'isolation', type: 'string', usage: 'Container isolation technology' },
  { name: 'kernel-memory', validate: validateBytes, type: 'string', varName: 'bytes', usage: 'Kernel memory limit' },
  { name: 'label', short: 'l', type: 'list', usage: 'Set meta data on a container', validate: validateLabel },
  { name: 'label-file', type: 'list', usage: 'Read in a line delimited file of labels' },
  { name: 'link', type: 'list', usage: 'Add link to another container' },
  { name: 'link-local-ip', type: 'list', usage: 'Container IPv4/IPv6 link-local addresses' },
  { name: 'log-driver', type: 'string', usage: 'Logging driver for the container' },
  { name: 'log-opt', type: 'list', usage: 'Log driver options' },
  { name: 'mac-address', type: 'string', usage: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  { name: 'memory', validate: validateBytes, short: 'm', type: 'string', varName: 'bytes', usage: 'Memory limit' },
  { name: 'memory-reservation', validate: validateBytes, type: 'string', varName: 'bytes', usage: 'Memory soft limit' },
  { name: 'memory-swap', validate: validateBytes, type: 'string', varName: 'bytes', usage: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  { name: 'memory-swappiness', type: 'int', usage: 'Tune container memory swappiness (0 to 100)', default: -1 },
  { name: 'mount', type: 'list', varName: 'mount', usage: 'Attach a filesystem mount to the container' },
  { name: 'name', type: 'string', usage: 'Assign a name to the container' },
  { name: 'net', type: 'list', varName: 'network', usage: 'Connect a container to a network', hidden: true },
  { name: 'net-alias', type: 'list', usage: 'Add network-scoped alias for the container', hidden: true },
  { name: 'network', type: 'list', varName: 'network', usage: 'Connect a container to a network' },
  { name: 'network-alias', type: 'list', usage: 'Add network-scoped alias for the container' },
  { name: 'no-healthcheck', type: 'bool', usage: 'Disable any container-specified HEALTHCHECK' },
  { name: 'oom-kill-disable', type: 'bool', usage: 'Disable OOM Killer' },
  { name: 'oom-score-adj', type: 'int', usage: "Tune host's OOM preferences (-1000 to 1000)" },
  { name: 'pid', type: 'string', usage: 'PID namespace to use' },
  { name: 'pids-limit', type: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },
  { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable' },
  { name: 'privileged', type: 'bool', usage: 'Give extended privileges to this container' },
  { name: 'publish', short: 'p', type: 'list', usage: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', type: 'bool', usage: 'Publish all exposed ports to random ports' },
  { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the pull output' },
  { name: 'read-only', type: 'bool', usage: "Mount the container's root filesystem as read only" },
  { name: 'restart', type: 'string', usage: 'Restart policy to apply when a container exits', default: 'no' },
  { name: 'rm', type: 'bool', usage: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { name: 'runtime', type: 'string', usage: 'Runtime to use for this container' },
  { name: 'security-opt', type: 'list', usage: 'Security Options' },
  { name: 'shm-size', validate: validateBytes, type: 'string', varName: 'bytes', usage: 'Size of /dev/shm' },
  { name: 'stop-signal', type: 'string', usage: 'Signal to stop the container' },
  { name: 'stop-timeout', type: 'int', usage: 'Timeout (in seconds) to stop a container' },
  { name: 'storage-opt', type: 'list', usage: 'Storage driver options for the container' },
  { name: 'sysctl', type: 'map', usage: 'Sysctl options', defaultText: 'map[]' },
  { name: 'tmpfs', type: 'list', usage: 'Mount a tmpfs directory' },
  { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
  { name: 'ulimit', type: 'list', varName: 'ulimit', usage: 'Ulimit options', defaultText: '[]' },
  { name: 'use-api-socket', type: 'bool', usage: 'Bind mount Docker API socket and required auth' },
  { name: 'user', short: 'u', type: 'string', usage: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'userns', type: 'string', usage: 'User namespace to use' },
  { name: 'uts', type: 'string', usage: 'UTS namespace to use' },
  { name: 'volume', short: 'v', type: 'list', usage: 'Bind mount a volume' },
  { name: 'volume-driver', type: 'string', usage: 'Optional volume driver for the container' },
  { name: 'volumes-from', type: 'list', usage: 'Mount volumes from the specified container(s)' },
  { name: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
];

export const RUN_ONLY_FLAGS: FlagDef[] = [
  { name: 'detach', short: 'd', type: 'bool', usage: 'Run container in background and print container ID' },
  { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
  { name: 'pull', type: 'string', usage: 'Pull image before running ("always", "missing", "never")', default: 'missing' },
  { name: 'sig-proxy', type: 'bool', usage: 'Proxy received signals to the process', default: true },
];

export const CREATE_ONLY_FLAGS: FlagDef[] = [
  { name: 'pull', type: 'string', usage: 'Pull image before creating ("always", "|missing", "never")', default: 'missing' },
];
