/** `inspect`, `container inspect`, `image inspect` (docker's inspect.Inspect with raw JSON). */
import { isNotFound } from '../../client';
import type { Cli } from '../cli';
import { CommandSpec, StatusError } from '../command';
import { FlagDef, FlagValues } from '../flags';
import { compactJSON, indentJSON } from '../format/json';
import { compileTemplate } from '../format/template';
import { INSPECT_FORMAT_HELP } from '../opts';

type Getter = (ref: string) => Promise<{ value: unknown; raw: Buffer }>;

const ALL_TYPES = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];

class NoSuchObject extends Error {}

/** Prints elements like docker: indented JSON array, compact JSON, or one template line each. */
export async function inspectAndPrint(cli: Cli, refs: string[], format: string, get: Getter): Promise<number> {
  let render: ((d: unknown) => string) | undefined;
  if (format !== '' && format !== 'json') {
    try {
      render = compileTemplate(format);
    } catch (err) {
      throw new StatusError(`template parsing error: ${(err as Error).message}`, 64);
    }
  }
  const raws: string[] = [];
  let buffer = '';
  const errs: string[] = [];
  for (const ref of refs) {
    let el: { value: unknown; raw: Buffer };
    try {
      el = await get(ref);
    } catch (err) {
      errs.push((err as Error).message);
      continue;
    }
    if (render) {
      try {
        buffer += render(el.value) + '\n';
      } catch (err) {
        errs.push(`template parsing error: ${(err as Error).message}`);
      }
    } else {
      raws.push(el.raw.toString('utf8'));
    }
  }
  if (render) {
    cli.out(buffer === '' ? '\n' : buffer);
  } else if (raws.length === 0) {
    cli.out('[]\n');
  } else {
    const joined = `[${raws.join(',')}]`;
    cli.out((format === 'json' ? compactJSON(joined) : indentJSON(joined, '    ')) + '\n');
  }
  if (errs.length > 0) throw new StatusError(errs.join('\n'), 1);
  return 0;
}

function skippable(err: unknown): boolean {
  const msg = (err as Error).message ?? '';
  return isNotFound(err) || msg.includes('not supported') || msg.includes('invalid reference format');
}

function inspectAll(cli: Cli, size: boolean, typeConstraint: string): Getter {
  const c = cli.client;
  const probes: { type: string; swarm: boolean; sizeSupported: boolean; get: Getter }[] = [
    { type: 'container', swarm: false, sizeSupported: true, get: (r) => c.containerInspectRaw(r, { size }) },
    { type: 'image', swarm: false, sizeSupported: false, get: (r) => c.imageInspectRaw(r) },
    { type: 'network', swarm: false, sizeSupported: false, get: (r) => c.rawGet(`/networks/${r}`) },
    { type: 'volume', swarm: false, sizeSupported: false, get: (r) => c.rawGet(`/volumes/${r}`) },
    { type: 'service', swarm: true, sizeSupported: false, get: (r) => c.rawGet(`/services/${r}`, { insertDefaults: '1' }) },
    { type: 'task', swarm: true, sizeSupported: false, get: (r) => c.rawGet(`/tasks/${r}`) },
    { type: 'node', swarm: true, sizeSupported: false, get: (r) => c.rawGet(`/nodes/${r}`) },
    { type: 'plugin', swarm: false, sizeSupported: false, get: (r) => c.rawGet(`/plugins/${r}/json`) },
    { type: 'secret', swarm: true, sizeSupported: false, get: (r) => c.rawGet(`/secrets/${r}`) },
    { type: 'config', swarm: true, sizeSupported: false, get: (r) => c.rawGet(`/configs/${r}`) },
  ];
  const isSwarmManager = async (): Promise<boolean> => {
    try {
      const info = (await c.info()) as { Swarm?: { ControlAvailable?: boolean } };
      return info.Swarm?.ControlAvailable === true;
    } catch (err) {
      cli.err(`${(err as Error).message}\n`);
      return false;
    }
  };
  return async (ref) => {
    let swarmSupported: boolean | undefined;
    for (const p of probes) {
      if (typeConstraint !== '' && p.type !== typeConstraint) continue;
      if (typeConstraint === '' && p.swarm) {
        if (swarmSupported === undefined) swarmSupported = await isSwarmManager();
        if (!swarmSupported) continue;
      }
      try {
        const el = await p.get(ref);
        if (size && !p.sizeSupported) cli.err(`WARNING: --size ignored for ${p.type}\n`);
        return el;
      } catch (err) {
        if (typeConstraint === '' && skippable(err)) continue;
        throw err;
      }
    }
    throw new NoSuchObject(`Error: No such object: ${ref}`);
  };
}

async function runInspect(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const type = flags.string('type');
  if (flags.isSet('type') && type === '') {
    throw new StatusError(`type is empty: must be one of "${ALL_TYPES.join('", "')}"`, 1);
  }
  if (type !== '' && !ALL_TYPES.includes(type)) {
    throw new StatusError(`unknown type: ${JSON.stringify(type)}: must be one of "${ALL_TYPES.join('", "')}"`, 1);
  }
  return inspectAndPrint(cli, args, flags.string('format'), inspectAll(cli, flags.bool('size'), type));
}

const FORMAT_FLAG: FlagDef = { name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP };

export const inspectCommand: CommandSpec = {
  name: 'inspect',
  use: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
  short: 'Return low-level information on Docker objects',
  args: { kind: 'min', n: 1 },
  flags: [
    FORMAT_FLAG,
    { name: 'type', type: 'string', usage: 'Only inspect objects of the given type' },
    { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes if the type is container' },
  ],
  run: runInspect,
};

export const containerInspectCommand: CommandSpec = {
  name: 'inspect',
  use: 'inspect [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Display detailed information on one or more containers',
  args: { kind: 'min', n: 1 },
  flags: [FORMAT_FLAG, { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' }],
  run: (cli, flags, args) =>
    inspectAndPrint(cli, args, flags.string('format'), (ref) => cli.client.containerInspectRaw(ref, { size: flags.bool('size') })),
};

export const imageInspectCommand: CommandSpec = {
  name: 'inspect',
  use: 'inspect [OPTIONS] IMAGE [IMAGE...]',
  short: 'Display detailed information on one or more images',
  args: { kind: 'min', n: 1 },
  flags: [FORMAT_FLAG, { name: 'platform', type: 'string', usage: 'Inspect a specific platform of the multi-platform image.\nIf the image or the server is not multi-platform capable, the command will error out if the platform does not match.\n\'os[/arch[/variant]]\': Explicit platform (eg. linux/amd64)' }],
  run: (cli, flags, args) => inspectAndPrint(cli, args, flags.string('format'), (ref) => cli.client.imageInspectRaw(ref)),
};


