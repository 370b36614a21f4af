import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { ImageService } from '../../src/engine/images/service';
import { chainIds } from '../../src/engine/layers/chain-id';
import { EngineError } from '../../src/util/errors';
import { dockerArchive, fileLayer, makeTar, ociLayout, prng } from '../e2e/images-fixtures';

const roots: string[] = [];
after(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));


function mutate(input: Buffer, rnd: () => number): Buffer {
  const out = Buffer.from(input);
  const at = Math.floor(rnd() * out.length);
  switch (Math.floor(rnd() * 4)) {
    case 0:
      return out.subarray(0, at); // truncated
    case 1:
      out[at] = out[at]! ^ (1 + Math.floor(rnd() * 255)); // one byte flipped
      return out;
    case 2:
      for (let i = at - (at % 512); i < Math.min(out.length, at - (at % 512) + 512); i++) out[i] = Math.floor(rnd() * 256); // a block of noise
      return out;
    default:
      out.fill(0, at - (at % 512), at - (at % 512) + 512); // a block of zeros
      return out;
  }
}

/** Everything stored is referenced, nothing half-made is left. */
function assertConsistent(svc: ImageService, root: string, label: string): void {
  const images = svc.list({ all: true }) as { Id: string }[];
  const keepLayers = new Set<string>();
  const keepBlobs = new Set<string>();
  for (const { Id } of images) {
    const record = svc.get(Id);
    keepBlobs.add(Id.slice(7));
    record.layers.forEach((d) => keepBlobs.add(d.slice(7)));
    chainIds(record.layers).forEach((c) => keepLayers.add(c.slice(7)));
  }
  const ls = (p: string) => (fs.existsSync(path.join(root, p)) ? fs.readdirSync(path.join(root, p)) : []);
  assert.deepEqual(ls('layers').filter((n) => /^[0-9a-f]{64}$/.test(n)).sort(), [...keepLayers].sort(), `${label}: layers`);
  assert.deepEqual(ls('content/sha256').sort(), [...keepBlobs].sort(), `${label}: blobs`);
  assert.deepEqual(ls('content/ingest'), [], `${label}: ingest`);
  assert.deepEqual(ls('layers/.tmp'), [], `${label}: layer temp dirs`);
}

test('mutated archives either load or fail with a 400, and never leave anything behind', async () => {
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fuzz-')), 'data');
  roots.push(path.dirname(root));
  const svc = await ImageService.open(root);
  const big = await makeTar([{ name: 'big.bin', body: Buffer.alloc(1_500_000, 3) }, { name: 'dir/', type: 'directory' }, { name: 'dir/f', body: 'f' }]);
  const small = await fileLayer('small.txt', 'small\n');
  const samples = [
    (await dockerArchive([{ layers: [big, small], repoTags: ['fz/a:1'] }, { layers: [small], repoTags: ['fz/b:1'] }])).tar,
    (await ociLayout([{ layers: [small, big], refName: 'fz/c:1' }])).tar,
    // small members only: mutations land in headers, manifests and configs
    (await dockerArchive([{ layers: [small], repoTags: ['fz/d:1'], labels: { a: 'b' } }])).tar,
    (await ociLayout([{ layers: [small], refName: 'fz/e:1' }])).tar,
  ];
  const rnd = prng(Number(process.env.FUZZ_SEED ?? 20261129));
  const rounds = Number(process.env.FUZZ_ROUNDS ?? 120);
  let loaded = 0;
  let refused = 0;
  for (let i = 0; i < rounds; i++) {
    // every fifth round loads an intact archive, so loads after failures are exercised too
    const sample = samples[i % samples.length]!;
    const input = i % 5 === 4 ? sample : mutate(sample, rnd);
    const label = `round ${i}`;
    try {
      await svc.load(Readable.from([input]), { quiet: true }, () => undefined);
      loaded++;
    } catch (err) {
      assert.ok(err instanceof EngineError && err.status === 400, `${label}: ${(err as Error).stack}`);
      if (process.env.FUZZ_VERBOSE) console.log(label, (err as Error).message);
      refused++;
    }
    assertConsistent(svc, root, label);
    if (i % 5 === 4) {
      for (const { Id } of svc.list({ all: true }) as { Id: string }[]) await svc.remove(Id, { force: true });
      assertConsistent(svc, root, `${label} after rmi`);
    }
  }
  assert.ok(loaded > 0 && refused > 0, `both outcomes seen (loaded ${loaded}, refused ${refused})`);
});
