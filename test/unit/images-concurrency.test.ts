import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, test } from 'node:test';
import { ImageService } from '../../src/engine/images/service';
import { chainIds } from '../../src/engine/layers/chain-id';
import { EngineError } from '../../src/util/errors';
import { dockerArchive, fileLayer, makeTar } from '../e2e/images-fixtures';

const roots: string[] = [];
after(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

test('loads, imports, saves, rmi and prune racing over shared layers: no unexpected errors, a consistent store', async () => {
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'berth-race-')), 'data');
  roots.push(path.dirname(root));
  const svc = await ImageService.open(root);
  const base = await makeTar([{ name: 'base.bin', body: Buffer.alloc(1_200_000, 1) }]);
  const archives = await Promise.all(
    [0, 1, 2, 3].map(async (i) => (await dockerArchive([{ layers: [base, await fileLayer(`f${i}`, `${i}`)], repoTags: [`race/${i}:1`] }])).tar),
  );
  const expected = (err: unknown): boolean => err instanceof EngineError && [404, 409].includes(err.status);
  const outcomes: string[] = [];
  const attempt = async (name: string, op: () => Promise<unknown>): Promise<void> => {
    try {
      await op();
      outcomes.push(`${name} ok`);
    } catch (err) {
      if (!expected(err)) throw err;
      outcomes.push(`${name} ${(err as EngineError).status}`);
    }
  };
  // Four lanes, each a sequence of operations on its own image and its neighbour's, all at once:
  // loads share the base layer, so removals and prunes keep hitting layers other lanes use.
  const lane = async (i: number): Promise<void> => {
    for (let round = 0; round < 6; round++) {
      await attempt('load', () => svc.load(Readable.from([archives[i]!]), { quiet: true }, () => undefined));
      await attempt('rmi', () => svc.remove(`race/${(i + 1) % 4}:1`));
      await attempt('import', () => svc.importImage(Readable.from([base]), { repo: `race/imp${i}` }));
      await attempt('save', async () => {
        const sink = new PassThrough();
        sink.resume();
        await svc.save([`race/${i}:1`], sink);
      });
      if (round % 2 === i % 2) await attempt('prune', () => svc.prune({ dangling: ['false'] }));
    }
  };
  await Promise.all([0, 1, 2, 3].map(lane));
  if (process.env.RACE_VERBOSE) console.log([...new Set(outcomes)].map((o) => `${o} x${outcomes.filter((x) => x === o).length}`).join(', '));
  assert.ok(outcomes.includes('rmi ok') && outcomes.includes('save ok'), 'the lanes really overlapped');

  await svc.settle();
  // Whatever survived is complete; nothing else is on disk.
  const keepLayers = new Set<string>();
  const keepBlobs = new Set<string>();
  for (const { Id } of svc.list({ all: true }) as { Id: string }[]) {
    const rec = svc.get(Id);
    keepBlobs.add(Id.slice(7));
    rec.layers.forEach((d) => keepBlobs.add(d.slice(7)));
    chainIds(rec.layers).forEach((c) => keepLayers.add(c.slice(7)));
    assert.ok(svc.lowerDirs(Id).every((dir) => fs.existsSync(dir)), `${Id} has its layers`);
  }
  const ls = (p: string) => (fs.existsSync(path.join(root, p)) ? fs.readdirSync(path.join(root, p)) : []);
  assert.deepEqual(ls('layers').filter((n) => /^[0-9a-f]{64}$/.test(n)).sort(), [...keepLayers].sort());
  assert.deepEqual(ls('content/sha256').sort(), [...keepBlobs].sort());
  assert.deepEqual(ls('content/ingest'), []);
  assert.deepEqual(ls('layers/.tmp'), []);
});
