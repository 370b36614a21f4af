/** `cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-` and `cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH` (docker/cli container/cp.go). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ApiError, type ContainerPathStat, decodePathStat, isNotFound, RawHttpError, rawGet } from '../../client';
import type { Cli } from '../cli';
import { type CommandSpec, StatusError } from '../command';
import type { FlagValues } from '../flags';
import { packForUpload, TarExtraction } from './cp-tar';

const GO_DIR = 2 ** 31;

/** `name:path` where name has no slash (so a local path with a colon after a slash stays local). */
function splitCpArg(arg: string): { container: string; path: string } {
  if (path.isAbsolute(arg)) return { container: '', path: arg };
  const i = arg.indexOf(':');
  if (i < 0 || arg.slice(0, i).includes('/') || (arg.startsWith('.') && !arg.includes(':'))) return { container: '', path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

async function copyFromContainer(cli: Cli, container: string, src: string, dst: string, follow: boolean): Promise<void> {
  let srcPath = src;
  if (follow) {
    const st = await cli.client.containerStatPath(container, src);
    if (st.linkTarget) srcPath = st.linkTarget;
  }
  const apiPath = `/containers/${container}/archive`;
  const query = { path: srcPath };
  if (dst !== '-' && (await copyOutLocally(cli, container, src, srcPath, dst))) return;
  if (dst === '-') {
    const res = await cli.client.transport.request({ method: 'GET', path: apiPath, query });
    await pipeline(res, cli.io.stdout, { end: false });
    return;
  }
  // The archive is read on a plain socket and extracted as it arrives (see rawGet).
  const transport = cli.client.transport;
  let extraction: TarExtraction | undefined;
  const head = await rawGet(
    transport.endpoint,
    await transport.rawGetRequest(apiPath, query),
    (h) => {
      if (h.status !== 200) return false;
      extraction = startExtraction(h.headers['x-docker-container-path-stat'], src, srcPath, dst);
      return true;
    },
    (data) => extraction!.push(data),
  ).catch((err) => {
    extraction?.abort();
    throw err instanceof RawHttpError && err.message === 'unexpected EOF' ? new Error('unexpected EOF') : err;
  });
  if (!extraction) {
    // An error status: asked again through the client, which reports it as docker does.
    await transport.request({ method: 'GET', path: apiPath, query }).then((res) => res.destroy());
    throw new Error(`unexpected status ${head.status}`);
  }
  try {
    extraction.end();
  } catch (err) {
    extraction.abort();
    throw err;
  }
}

/** Checks the destination against the source's stat and prepares the extraction (docker's rules). */
function startExtraction(rawStat: string | undefined, src: string, srcPath: string, dst: string): TarExtraction {
  const plan = extractionPlan(decodePathStat(rawStat), src, srcPath, dst);
  return new TarExtraction(plan.dir, plan.rename ? { rename: plan.rename } : {});
}

/** Where a download goes: the directory it is extracted in, and the new name of its top entry. */
function extractionPlan(
  stat: ContainerPathStat | undefined,
  src: string,
  srcPath: string,
  dst: string,
): { dir: string; rename?: { from: string; to: string } } {
  const base = stat?.name ?? path.basename(srcPath);
  const srcIsDir = stat ? stat.mode >= GO_DIR : false;
  const contentsOnly = src.endsWith('/.');
  let dstStat: fs.Stats | undefined;
  try {
    dstStat = fs.statSync(dst);
  } catch {
    dstStat = undefined;
  }
  if (!dstStat && dst.endsWith('/')) throw new StatusError(`destination directory "${dst}" must exist`, 1);
  if (dstStat && !dstStat.isDirectory() && srcIsDir) throw new StatusError('cannot copy a directory to a file', 1);
  if (dstStat?.isDirectory()) return { dir: dst };
  const dir = path.dirname(dst);
  let parent: fs.Stats;
  try {
    parent = fs.statSync(dir);
  } catch {
    throw new StatusError(`stat ${dir}: no such file or directory`, 1);
  }
  if (!parent.isDirectory()) throw new StatusError(`stat ${dir}: not a directory`, 1);
  return { dir, rename: { from: contentsOnly ? '.' : base, to: path.basename(dst) } };
}

async function copyToContainer(cli: Cli, src: string, container: string, dst: string, copyUIDGID: boolean, follow: boolean): Promise<void> {
  const query = { path: dst, noOverwriteDirNonDir: 'true', copyUIDGID: copyUIDGID ? 'true' : undefined };
  if (src === '-') {
    const res = await cli.client.transport.request({ method: 'PUT', path: `/containers/${container}/archive`, query, body: cli.io.stdin });
    res.resume();
    return;
  }
  let local: fs.Stats;
  try {
    local = follow ? fs.statSync(src) : fs.lstatSync(src);
  } catch {
    throw new StatusError(`lstat ${path.resolve(src)}: no such file or directory`, 1);
  }
  let dstStat: ContainerPathStat | undefined;
  try {
    dstStat = await cli.client.containerStatPath(container, dst);
    if (dstStat.linkTarget) dstStat = await cli.client.containerStatPath(container, dstStat.linkTarget);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const dstIsDir = dstStat ? dstStat.mode >= GO_DIR : false;
  const abs = path.resolve(src);
  const base = path.basename(abs);
  const contentsOnly = src.endsWith('/.');
  if (dstStat && !dstIsDir && local.isDirectory()) throw new StatusError('cannot copy directory', 1);
  let putPath: string;
  let name: string;
  if (dstStat && dstIsDir) {
    putPath = dst;
    name = contentsOnly ? '.' : base;
  } else {
    if (dst.endsWith('/') && !dstStat) throw new StatusError(`destination directory "${dst}" must exist`, 1);
    putPath = path.posix.dirname(dst.replace(/\/+$/, '') || '/');
    name = path.posix.basename(dst.replace(/\/+$/, ''));
  }
  if ((local.isDirectory() || local.isFile()) && (await copyInLocally(cli, container, abs, follow, { Path: putPath, Name: name, CopyUIDGID: copyUIDGID }))) return;
  const tar = packForUpload(abs, name, follow);
  let packError: Error | undefined;
  tar.on('error', (err) => (packError ??= err));
  let res;
  try {
    res = await cli.client.transport.request({
      method: 'PUT',
      path: `/containers/${container}/archive`,
      query: { ...query, path: putPath },
      headers: { 'Content-Type': 'application/x-tar' },
      body: tar,
    });
  } catch (err) {
    throw packError ?? err;
  }
  res.resume();
  if (packError) throw packError;
}

// ---------------------------------------------------------------- local copies

/**
 * With berthd on this machine and the CLI running as root, a copy needs no tar: berthd copies between
 * the container and a file or directory this process holds open (POST /containers/{id}/archive/local,
 * a Berth extension; see engine/containers/local-copy.ts). False when that cannot be done (another
 * daemon, another machine, not root): the copy then goes as a tar.
 */
function canCopyLocally(cli: Cli): boolean {
  return cli.client.transport.endpoint.proto === 'unix' && process.getuid?.() === 0 && process.env.BERTH_CP_TAR !== '1';
}

/** Opens `file` and names it for berthd; undefined when it cannot be opened as asked. */
function clientFile(file: string, follow: boolean): { fd: number; ref: { Pid: number; Fd: number; Dev: string; Ino: string } } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | (follow ? 0 : fs.constants.O_NOFOLLOW));
  } catch {
    return undefined;
  }
  const st = fs.fstatSync(fd, { bigint: true });
  return { fd, ref: { Pid: process.pid, Fd: fd, Dev: st.dev.toString(), Ino: st.ino.toString() } };
}

/** Sends the local copy; false when berthd answers that it cannot make it (421) or does not know it (404 page not found). */
async function postLocalCopy(cli: Cli, container: string, body: Record<string, unknown>): Promise<boolean> {
  try {
    const res = await cli.client.transport.request({ method: 'POST', path: `/containers/${container}/archive/local`, json: body });
    res.resume();
    // Anything but 204 is a daemon that took the request for something else: the copy goes as a tar.
    if (res.statusCode !== 204) return false;
    if (cli.options.debug) cli.err(`DEBU[0000] cp ${body.Direction}: copied by the daemon from this process's open ${body.Direction === 'in' ? 'source' : 'destination'} (no tar)\n`);
    return true;
  } catch (err) {
    if (err instanceof ApiError && (err.statusCode === 421 || (err.statusCode === 404 && err.daemonMessage === 'page not found'))) return false;
    // 422: writing the local files failed; the message is the extraction's, as the CLI would print it.
    if (err instanceof ApiError && err.statusCode === 422) throw new Error(err.daemonMessage);
    throw err;
  }
}

async function copyInLocally(
  cli: Cli,
  container: string,
  abs: string,
  follow: boolean,
  opts: { Path: string; Name: string; CopyUIDGID: boolean },
): Promise<boolean> {
  if (!canCopyLocally(cli)) return false;
  const file = clientFile(abs, follow);
  if (!file) return false;
  try {
    return await postLocalCopy(cli, container, { Direction: 'in', ...opts, NoOverwriteDirNonDir: true, Client: file.ref });
  } finally {
    fs.closeSync(file.fd);
  }
}

async function copyOutLocally(cli: Cli, container: string, src: string, srcPath: string, dst: string): Promise<boolean> {
  if (!canCopyLocally(cli)) return false;
  let stat: ContainerPathStat;
  try {
    stat = await cli.client.containerStatPath(container, srcPath);
  } catch {
    return false; // the download reports it in docker's words
  }
  const plan = extractionPlan(stat, src, srcPath, dst);
  const top = srcPath.endsWith('/.') ? '.' : stat.name;
  if (plan.rename && plan.rename.from !== top) return false;
  const file = clientFile(plan.dir, true);
  if (!file) return false;
  try {
    return await postLocalCopy(cli, container, { Direction: 'out', Path: srcPath, Name: plan.rename ? plan.rename.to : top, Client: file.ref });
  } finally {
    fs.closeSync(file.fd);
  }
}

async function runCp(cli: Cli, flags: FlagValues, args: string[]): Promise<number> {
  const [srcArg, dstArg] = args as [string, string];
  const src = splitCpArg(srcArg);
  const dst = splitCpArg(dstArg);
  if (src.container && dst.container) throw new StatusError('copying between containers is not supported', 1);
  if (!src.container && !dst.container) throw new StatusError('must specify at least one container source', 1);
  if (src.container) await copyFromContainer(cli, src.container, src.path, dst.path, flags.bool('follow-link'));
  else await copyToContainer(cli, src.path, dst.container, dst.path, flags.bool('archive'), flags.bool('follow-link'));
  return 0;
}

export const cpCommand: CommandSpec = {
  name: 'cp',
  use: 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  short: 'Copy files/folders between a container and the local filesystem',
  aliasPaths: ['container cp', 'cp'],
  args: { kind: 'exact', n: 2 },
  flags: [
    { name: 'archive', short: 'a', type: 'bool', usage: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', type: 'bool', usage: 'Always follow symbol link in SRC_PATH' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
  ],
  run: runCp,
};
