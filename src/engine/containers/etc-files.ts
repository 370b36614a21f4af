import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NetworkPlan } from './networking';
import type { ContainerRecord } from './types';

export interface EtcFiles {
  hosts: string;
  hostname: string;
  resolvConf: string;
}

export function etcPaths(containerDir: string): EtcFiles {
  return {
    hosts: path.join(containerDir, 'hosts'),
    hostname: path.join(containerDir, 'hostname'),
    resolvConf: path.join(containerDir, 'resolv.conf'),
  };
}

const BASE_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::\tip6-localnet',
  'ff00::\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/**
 * The files Docker bind-mounts over /etc/hosts, /etc/hostname and /etc/resolv.conf. They are rewritten at every
 * start, so a plain write (no fsync) is enough.
 */
export function writeEtcFiles(containerDir: string, c: ContainerRecord, plan: NetworkPlan, hostResolvConf = '/etc/resolv.conf'): EtcFiles {
  const p = etcPaths(containerDir);
  fs.writeFileSync(p.hostname, `${c.Config.Hostname}\n`);
  fs.writeFileSync(p.hosts, [...BASE_HOSTS, ...plan.hostsEntries].join('\n') + '\n');
  let resolv = plan.resolvConf ?? '';
  if (plan.resolvConf === undefined) {
    try {
      resolv = fs.readFileSync(hostResolvConf, 'utf8');
    } catch {
      /* no resolver configured on the host */
    }
  }
  fs.writeFileSync(p.resolvConf, resolv);
  return p;
}
