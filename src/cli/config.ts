/** The docker client config file (config.json): formats, detach keys, registry credentials. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  psFormat?: string;
  imagesFormat?: string;
  detachKeys?: string;
}

export function defaultConfigDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
}

export function readConfigFile(dir: string): ConfigFile {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as ConfigFile) : {};
  } catch {
    return {};
  }
}
