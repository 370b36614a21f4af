/** Runs the berth CLI in-process against the fake daemon, capturing its output (shared by the CLI unit tests). */
import { PassThrough, Writable } from 'node:stream';
import { runCli } from '../../src/cli/main';
import { FakeDaemon } from '../../src/client/testing/fake-daemon';

export function collector(): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  }) as Writable & { text: () => string };
  w.text = () => Buffer.concat(chunks).toString('utf8');
  return w;
}

export async function berth(d: FakeDaemon, args: string[], stdinData?: string) {
  const stdin = new PassThrough();
  if (stdinData !== undefined) stdin.end(stdinData);
  const stdout = collector();
  const stderr = collector();
  const code = await runCli(args, { stdin, stdout, stderr }, { DOCKER_HOST: d.host, HOME: '/nonexistent' });
  return { code, out: stdout.text(), err: stderr.text() };
}

export async function withDaemon(fn: (d: FakeDaemon) => Promise<void>): Promise<void> {
  const d = new FakeDaemon();
  await d.start();
  try {
    await fn(d);
  } finally {
    await d.stop();
  }
}
