/** Per-invocation CLI state: streams, environment, global options and the lazily built client. */
import type { Readable, Writable } from 'node:stream';
import { DockerClient, Endpoint, resolveHost } from '../client';
import { ConfigFile, readConfigFile } from './config';

export interface CliIO {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown; fd?: number };
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable & { isTTY?: boolean };
}

export interface GlobalOptions {
  hosts: string[];
  debug: boolean;
  logLevel: string;
  configDir: string;
  context: string;
}

export const CLIENT_VERSION = '0.1.0';

export class Cli {
  private clientInstance?: DockerClient;
  private endpointInstance?: Endpoint;
  private configInstance?: ConfigFile;

  constructor(
    readonly io: CliIO,
    readonly env: NodeJS.ProcessEnv,
    readonly options: GlobalOptions,
  ) {}

  get endpoint(): Endpoint {
    if (!this.endpointInstance) this.endpointInstance = resolveHost(this.options.hosts, this.env);
    return this.endpointInstance;
  }

  get client(): DockerClient {
    if (!this.clientInstance) {
      this.clientInstance = new DockerClient(this.endpoint, {
        userAgent: `Berth-Client/${CLIENT_VERSION} (linux)`,
        apiVersion: this.env.DOCKER_API_VERSION || undefined,
      });
    }
    return this.clientInstance;
  }

  /** The client config file (config.json in --config / DOCKER_CONFIG / ~/.docker). */
  get config(): ConfigFile {
    if (!this.configInstance) this.configInstance = readConfigFile(this.options.configDir);
    return this.configInstance;
  }

  close(): void {
    this.clientInstance?.close();
  }

  out(s: string): void {
    this.io.stdout.write(s);
  }

  err(s: string): void {
    this.io.stderr.write(s);
  }

  get outIsTerminal(): boolean {
    return this.io.stdout.isTTY === true;
  }

  get inIsTerminal(): boolean {
    return this.io.stdin.isTTY === true;
  }

  /** [rows, cols] of the output terminal, [0, 0] when it is not one (docker's GetTtySize). */
  ttySize(): [number, number] {
    if (!this.outIsTerminal) return [0, 0];
    return [this.io.stdout.rows ?? 0, this.io.stdout.columns ?? 0];
  }

  /** Width used to wrap help text (docker reads the size of fd 0). */
  get helpWidth(): number {
    if (!this.inIsTerminal) return 80;
    return this.io.stdout.columns || 80;
  }
}
