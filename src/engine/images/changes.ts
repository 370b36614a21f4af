import * as path from 'node:path';
import { invalidParameter } from '../../util/errors';
import type { ImageConfigBody } from './config';
import {
  envLookup,
  expandWord,
  parseJsonArray,
  parseKeyValues,
  splitFields,
  splitWords,
} from './dockerfile-words';
import { parseGoDurationMs } from './time';

/** The Dockerfile instructions `docker import/commit --change` accept (moby validCommitCommands). */
const CHANGE_INSTRUCTIONS = new Set([
  'cmd',
  'entrypoint',
  'healthcheck',
  'env',
  'expose',
  'label',
  'onbuild',
  'stopsignal',
  'user',
  'volume',
  'workdir',
]);

/**
 * Applies `--change` lines to a copy of `base` and returns it. Errors are 400s with Docker's
 * wording, e.g. `RUN is not a valid change command`.
 */
export function applyChanges(base: ImageConfigBody, changes: readonly string[]): ImageConfigBody {
  const config: ImageConfigBody = structuredClone(base);
  const state = { cmdSet: false };
  for (const line of changes.flatMap((c) => c.split('\n'))) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = /^(\S+)\s*([\s\S]*)$/.exec(trimmed) as RegExpExecArray;
    const [, instruction, args] = match;
    if (!CHANGE_INSTRUCTIONS.has(instruction.toLowerCase())) {
      throw invalidParameter(`${instruction} is not a valid change command`);
    }
    try {
      applyInstruction(config, instruction.toUpperCase(), args.trim(), state);
    } catch (err) {
      throw invalidParameter((err as Error).message);
    }
  }
  return config;
}

function applyInstruction(config: ImageConfigBody, instruction: string, args: string, state: { cmdSet: boolean }): void {
  const lookup = envLookup(config.Env);
  switch (instruction) {
    case 'CMD':
      config.Cmd = commandLine(config, args);
      state.cmdSet = true;
      return;
    case 'ENTRYPOINT':
      config.Entrypoint = commandLine(config, args);
      if (!state.cmdSet) config.Cmd = null; // a new entrypoint drops an inherited CMD, as in a build
      return;
    case 'ENV':
      for (const { key, value } of parseKeyValues('ENV', args, lookup)) {
        if (key === '') throw new Error('ENV names can not be blank');
        setEnv(config, key, value);
      }
      return;
    case 'LABEL':
      config.Labels = config.Labels ?? {};
      for (const { key, value } of parseKeyValues('LABEL', args, lookup)) {
        if (key === '') throw new Error('LABEL names can not be blank');
        config.Labels[key] = value;
      }
      return;
    case 'EXPOSE': {
      const words = splitFields(args).map((w) => expandWord(w, lookup)).flatMap((w) => splitFields(w));
      if (words.length === 0) throw new Error('EXPOSE requires at least one argument');
      config.ExposedPorts = config.ExposedPorts ?? {};
      for (const word of words) for (const port of exposedPorts(word)) config.ExposedPorts[port] = {};
      return;
    }
    case 'VOLUME': {
      const volumes = (parseJsonArray(args) ?? splitFields(args)).map((w) => expandWord(w, lookup));
      if (volumes.length === 0) throw new Error('VOLUME requires at least one argument');
      config.Volumes = config.Volumes ?? {};
      for (const volume of volumes) {
        if (volume.trim() === '') throw new Error('VOLUME specified can not be an empty string');
        config.Volumes[volume] = {};
      }
      return;
    }
    case 'USER':
      config.User = singleArgument('USER', args, lookup);
      return;
    case 'WORKDIR': {
      const dir = singleArgument('WORKDIR', args, lookup);
      config.WorkingDir = path.posix.resolve('/', config.WorkingDir || '/', dir);
      return;
    }
    case 'STOPSIGNAL': {
      const signal = singleArgument('STOPSIGNAL', args, lookup);
      if (!isValidSignal(signal)) throw new Error(`Invalid signal: ${signal}`);
      config.StopSignal = signal;
      return;
    }
    case 'ONBUILD': {
      const trigger = (splitFields(args)[0] ?? '').toUpperCase();
      if (trigger === '') throw new Error('ONBUILD requires at least one argument');
      if (trigger === 'ONBUILD') throw new Error('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'FROM' || trigger === 'MAINTAINER') throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
      config.OnBuild = [...(config.OnBuild ?? []), args];
      return;
    }
    case 'HEALTHCHECK':
      config.Healthcheck = healthcheck(args);
      return;
  }
}

/** Exec form from a JSON array, otherwise the shell form run through the image's shell. */
function commandLine(config: ImageConfigBody, args: string): string[] {
  const exec = parseJsonArray(args);
  if (exec) return exec;
  const shell = config.Shell && config.Shell.length > 0 ? config.Shell : ['/bin/sh', '-c'];
  return [...shell, args];
}

function setEnv(config: ImageConfigBody, key: string, value: string): void {
  const env = config.Env ?? [];
  const index = env.findIndex((e) => e.split('=', 1)[0] === key);
  if (index >= 0) env[index] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
  config.Env = env;
}

function singleArgument(instruction: string, args: string, lookup: ReturnType<typeof envLookup>): string {
  const words = splitWords(args);
  if (words.length !== 1) throw new Error(`${instruction} requires exactly one argument`);
  return expandWord(words[0], lookup);
}

/** "80", "80/udp", "8000-8002/tcp" → ["80/tcp"], … (ranges expanded like Docker). */
function exposedPorts(spec: string): string[] {
  const [range, proto = 'tcp', ...extra] = spec.split('/');
  if (extra.length > 0 || !['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new Error(`invalid proto: ${proto}`);
  const match = /^(\d+)(?:-(\d+))?$/.exec(range);
  if (!match) throw new Error(`invalid containerPort: ${range}`);
  const start = Number(match[1]);
  const end = match[2] === undefined ? start : Number(match[2]);
  if (start > 65535 || end > 65535 || end < start) throw new Error(`invalid containerPort: ${range}`);
  const ports: string[] = [];
  for (let p = start; p <= end; p++) ports.push(`${p}/${proto.toLowerCase()}`);
  return ports;
}

const SIGNAL_NAMES = new Set(
  ('ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV STKFLT STOP ' +
    'SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ RTMIN RTMAX').split(' '),
);

function isValidSignal(signal: string): boolean {
  if (/^\d+$/.test(signal)) return Number(signal) > 0 && Number(signal) <= 64;
  const name = signal.toUpperCase().replace(/^SIG/, '');
  return SIGNAL_NAMES.has(name) || /^RTMIN\+([1-9]|1[0-5])$|^RTMAX-([1-9]|1[0-4])$/.test(name);
}

const HEALTHCHECK_DURATION_FLAGS: Record<string, string> = {
  interval: 'Interval',
  timeout: 'Timeout',
  'start-period': 'StartPeriod',
  'start-interval': 'StartInterval',
};

/** `HEALTHCHECK [--interval=… --timeout=… --start-period=… --start-interval=… --retries=N] CMD …|NONE` */
function healthcheck(args: string): Record<string, unknown> {
  let rest = args;
  const result: Record<string, unknown> = {};
  for (;;) {
    const flag = /^--([a-z-]+)=(\S*)\s*/.exec(rest);
    if (!flag) break;
    rest = rest.slice(flag[0].length);
    const [, name, value] = flag;
    if (name === 'retries') {
      if (!/^\d+$/.test(value)) throw new Error(`invalid value for --retries: ${value}`);
      result.Retries = Number(value);
      continue;
    }
    const field = HEALTHCHECK_DURATION_FLAGS[name];
    if (!field) throw new Error(`Unknown flag: ${name}`);
    const ms = parseGoDurationMs(value);
    if (ms === undefined) throw new Error(`time: invalid duration "${value}"`);
    if (ms !== 0 && ms < 1) throw new Error(`${field} "${value}" cannot be less than 1ms`);
    result[field] = Math.round(ms * 1_000_000);
  }
  const kind = /^(\S+)\s*([\s\S]*)$/.exec(rest.trim());
  if (!kind) throw new Error('HEALTHCHECK requires an argument');
  const type = kind[1].toUpperCase();
  if (type === 'NONE') {
    if (kind[2].trim() !== '' || Object.keys(result).length > 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (type !== 'CMD') throw new Error(`Unknown type "${type}" in HEALTHCHECK (try CMD)`);
  const exec = parseJsonArray(kind[2]);
  const test = exec ? ['CMD', ...exec] : ['CMD-SHELL', kind[2]];
  return { Test: test, ...result };
}
