import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import * as tarStream from 'tar-stream';
import { extractTar } from '../../src/engine/layers/extract';
import { makeTar, prng } from '../e2e/images-fixtures';

const pack = (entries: Entry[]) => makeTar(entries, { mode: 0o755 });

const sandboxes: string[] = [];
after(() => sandboxes.forEach((s) => fs.rmSync(s, { recursive: true, force: true })));


type Entry = tarStream.Headers & { body?: string };


/** Every name, type, size, mode, link target and mtime under `dir`. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      const link = st.isSymbolicLink() ? fs.readlinkSync(p) : '';
      out.push(`${path.relative(dir, p)} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${link}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

test('random hostile layers (.., absolute names, symlink and hard-link escapes, whiteouts) never touch anything outside', async () => {
  const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-xfuzz-'));
  sandboxes.push(sandbox);
  const outside = path.join(sandbox, 'outside');
  fs.mkdirSync(path.join(outside, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'secret'), 'do not touch');
  fs.writeFileSync(path.join(outside, 'sub', 'file'), 'nor this');
  fs.symlinkSync('../outside/secret', path.join(outside, 'link'));
  const hostProbe = `/berth-xfuzz-${path.basename(sandbox)}`;
  const before = snapshot(sandbox);

  const rnd = prng(Number(process.env.FUZZ_SEED ?? 4242));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const components = ['a', 'b', 'sub', '..', '.', 'outside', 'secret', 'link', '.wh.a', '.wh..wh..opq', '.wh.secret'];
  const targets = ['..', '../..', '../../outside', '../outside/secret', outside, path.join(outside, 'secret'), `${outside}/sub`, '/', hostProbe, 'a', 'a/b', '.', 'link'];
  const name = (): string => {
    const n = 1 + Math.floor(rnd() * 4);
    const parts = Array.from({ length: n }, () => pick(components));
    return (rnd() < 0.2 ? '/' : rnd() < 0.1 ? './' : '') + parts.join('/');
  };
  const rounds = Number(process.env.FUZZ_ROUNDS ?? 300);
  let refused = 0;
  for (let i = 0; i < rounds; i++) {
    const entries: Entry[] = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => {
      const kind = rnd();
      if (kind < 0.3) return { name: name(), type: 'symlink', linkname: pick(targets) };
      if (kind < 0.45) return { name: name(), type: 'link', linkname: pick([...targets, name()]) };
      if (kind < 0.6) return { name: name(), type: 'directory' };
      if (kind < 0.65) return { name: name(), type: 'fifo' };
      return { name: name(), body: `payload ${i}`, mode: 0o4755 };
    });
    const target = path.join(sandbox, `layer${i}`);
    fs.mkdirSync(target);
    try {
      await extractTar(Readable.from([await pack(entries)]), target);
    } catch {
      refused++;
    }
    assert.deepEqual(snapshot(outside), before.filter((l) => l.startsWith('outside/')).map((l) => l.slice('outside/'.length)), `round ${i}: ${JSON.stringify(entries)}`);
    assert.ok(!fs.existsSync(hostProbe), `round ${i} wrote to the host root`);
    assert.deepEqual(fs.readdirSync(sandbox).filter((n) => n !== 'outside' && !n.startsWith('layer')), [], `round ${i}: nothing beside the layer dirs`);
    fs.rmSync(target, { recursive: true, force: true });
  }
  assert.ok(refused < rounds, 'some layers extract');
});
