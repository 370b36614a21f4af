/** Daemon address selection and parsing (`-H`, `DOCKER_HOST`, default socket). */

export const DEFAULT_SOCKET = '/run/berth/berth.sock';
export const DEFAULT_HOST = `unix://${DEFAULT_SOCKET}`;

export interface Endpoint {
  /** The host string as given (normalised), e.g. `unix:///run/berth/berth.sock`. */
  host: string;
  proto: 'unix' | 'tcp';
  /** Socket path for unix. */
  socketPath?: string;
  hostname?: string;
  port?: number;
}

export class HostError extends Error {}

/** Parses `unix:///path`, `tcp://host:port`, `host:port` like docker's ParseHost (subset). */
export function parseHost(raw: string): Endpoint {
  const s = raw.trim();
  if (s === '') return parseHost(DEFAULT_HOST);
  const m = /^([a-z]+):\/\/(.*)$/.exec(s);
  let proto: string;
  let rest: string;
  if (m) {
    proto = m[1];
    rest = m[2];
  } else if (s.startsWith('/')) {
    proto = 'unix';
    rest = s;
  } else {
    proto = 'tcp';
    rest = s;
  }
  if (proto === 'unix') {
    const path = rest === '' ? DEFAULT_SOCKET : rest;
    return { host: `unix://${path}`, proto: 'unix', socketPath: path };
  }
  if (proto === 'tcp' || proto === 'http') {
    let hostPart = rest.replace(/\/+$/, '');
    let port = 2375;
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPart);
    let hostname: string;
    if (bracket) {
      hostname = bracket[1];
      if (bracket[2]) port = Number(bracket[2]);
    } else {
      const idx = hostPart.lastIndexOf(':');
      if (idx >= 0) {
        hostname = hostPart.slice(0, idx);
        const p = hostPart.slice(idx + 1);
        if (p !== '') {
          if (!/^\d+$/.test(p)) throw new HostError(`invalid bind address (${raw}): invalid port`);
          port = Number(p);
        }
      } else {
        hostname = hostPart;
      }
    }
    if (hostname === '') hostname = '127.0.0.1';
    hostPart = hostname.includes(':') ? `[${hostname}]` : hostname;
    return { host: `tcp://${hostPart}:${port}`, proto: 'tcp', hostname, port };
  }
  throw new HostError(`invalid bind address (${raw}): unsupported protocol`);
}

/** Chooses the daemon host: `-H` flag, then DOCKER_HOST, then the default socket. */
export function resolveHost(flagHosts: readonly string[], env: NodeJS.ProcessEnv = process.env): Endpoint {
  if (flagHosts.length > 1) throw new HostError('Specify only one -H');
  if (flagHosts.length === 1) return parseHost(flagHosts[0]);
  const fromEnv = env.DOCKER_HOST;
  if (fromEnv) return parseHost(fromEnv);
  return parseHost(DEFAULT_HOST);
}
