/** `commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]` and `diff CONTAINER` (docker/cli container/commit.go, diff.go). */
import type { Cli } from '../cli';
import { CommandSpec, StatusError } from '../command';
import { FlagValues } from '../flags';

/** Splits `repo[:tag]` (a colon after the last slash is the tag). */
function splitRepoTag(ref: string): { repo: string; tag?: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref };
}

async function runCommit(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const [container, ref] = args as [string, string | undefined];
  const rt = ref ? splitRepoTag(ref) : undefined;
  if (rt && rt.tag === '') throw new StatusError(`invalid reference format`, 1);
  const res = await cli.client.transport.json<{ Id: string }>({
    method: 'POST',
    path: '/commit',
    query: {
      container,
      repo: rt?.repo,
      tag: rt?.tag,
      comment: flags.string('message'),
      author: flags.string('author'),
      changes: flags.list('change'),
      pause: flags.bool('pause') ? undefined : '0',
    },
    json: null,
  });
  cli.out(`${res.Id}\n`);
  return 0;
}

export const commitCommand: CommandSpec = {
  name: 'commit',
  use: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  short: "Create a new image from a container's changes",
  aliasPaths: ['container commit', 'commit'],
  args: { kind: 'range', min: 1, max: 2 },
  flags: [
    { name: 'author', short: 'a', type: 'string', usage: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', short: 'c', type: 'list', usage: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', usage: 'Commit message' },
    { name: 'pause', short: 'p', type: 'bool', usage: 'Pause container during commit', default: true },
  ],
  run: runCommit,
};

async function runDiff(cli: Cli, _flags: FlagValues, args: string[]): Promise<number> {
  const changes = await cli.client.transport.json<Array<{ Path: string; Kind: number }> | null>({ method: 'GET', path: `/containers/${args[0]}/changes` });
  const kinds = ['C', 'A', 'D'];
  cli.out((changes ?? []).map((c) => `${kinds[c.Kind] ?? '?'} ${c.Path}\n`).join(''));
  return 0;
}

export const diffCommand: CommandSpec = {
  name: 'diff',
  use: 'diff CONTAINER',
  short: "Inspect changes to files or directories on a container's filesystem",
  aliasPaths: ['container diff', 'diff'],
  args: { kind: 'exact', n: 1 },
  flags: [],
  run: runDiff,
};
