import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { DeleteStore, deleteImage } from '../../src/engine/images/image-delete';
import { ParsedReference, fullString, parseNormalizedReference } from '../../src/engine/images/reference';
import { pruneImages } from '../../src/engine/images/prune';
import type { ImageEntry } from '../../src/engine/images/image-index';
import type { ContainerUse } from '../../src/engine/images/usage';

const ID = `sha256:${'a'.repeat(64)}`;
const PARENT = `sha256:${'b'.repeat(64)}`;
const DIGEST = `sha256:${'c'.repeat(64)}`;

/** An in-memory DeleteStore: refs, parent links, containers; records what was removed. */
function fakeStore(opts: { refs?: string[]; containers?: ContainerUse[]; parents?: Record<string, string>; refsOf?: Record<string, string[]> } = {}) {
  const refs = new Map<string, { ref: ParsedReference; id: string }>();
  const add = (text: string, id: string) => {
    const ref = parseNormalizedReference(text);
    refs.set(fullString(ref), { ref, id });
  };
  for (const r of opts.refs ?? []) add(r, ID);
  for (const [id, list] of Object.entries(opts.refsOf ?? {})) for (const r of list) add(r, id);
  const images = new Set([ID, PARENT]);
  const removed: string[] = [];
  const events: string[] = [];
  const store: DeleteStore = {
    refsFor: (id) => [...refs.values()].filter((e) => e.id === id).map((e) => e.ref),
    untag: (ref) => void refs.delete(fullString(ref)),
    hasChildren: (id) => Object.entries(opts.parents ?? {}).some(([child, parent]) => parent === id && images.has(child)),
    parentOf: (id) => opts.parents?.[id] ?? '',
    containersUsing: (id) => (opts.containers ?? []).filter((c) => c.imageId === id),
    removeImage: async (id, retain) => {
      images.delete(id);
      removed.push(`${id}${retain ? ' (retained)' : ''}`);
      return retain ? [] : [`layer-of-${id.slice(7, 10)}`];
    },
    event: (action, id) => void events.push(`${action} ${id.slice(7, 10)}`),
  };
  return { store, removed, events, refs };
}

describe('deleteImage', () => {
  test('a tag of several only untags; the last tag deletes the image and its digest references', async () => {
    const { store, removed } = fakeStore({ refs: ['app:1', 'app:2', `app@${DIGEST}`] });
    assert.deepEqual(await deleteImage(store, 'app:1', ID, { force: false, prune: true }), [{ Untagged: 'app:1' }]);
    assert.deepEqual(await deleteImage(store, 'app:2', ID, { force: false, prune: true }), [
      { Untagged: 'app:2' },
      { Untagged: `app@${DIGEST}` },
      { Deleted: ID },
      { Deleted: 'layer-of-aaa' },
    ]);
    assert.deepEqual(removed, [ID]);
  });

  test('by ID: one repository with one tag and digests is fine, two repositories need force', async () => {
    let s = fakeStore({ refs: ['app:1', `app@${DIGEST}`] });
    assert.deepEqual((await deleteImage(s.store, 'aaaa', ID, { force: false, prune: false })).map((r) => Object.keys(r)[0]), ['Untagged', 'Untagged', 'Deleted', 'Deleted']);
    s = fakeStore({ refs: ['app:1', 'other:1'] });
    await assert.rejects(deleteImage(s.store, 'aaaa', ID, { force: false, prune: false }), /\(must be forced\) - image is referenced in multiple repositories$/);
    const forced = await deleteImage(s.store, 'aaaa', ID, { force: true, prune: false });
    assert.deepEqual(forced.slice(0, 2), [{ Untagged: 'app:1' }, { Untagged: 'other:1' }]);
  });

  test('containers: a stopped one blocks unless forced (the image is then retained), a running one always', async () => {
    const stopped = { id: 'f'.repeat(64), imageId: ID, running: false };
    let s = fakeStore({ refs: ['app:1'], containers: [stopped] });
    await assert.rejects(deleteImage(s.store, 'app:1', ID, { force: false, prune: true }), /unable to remove repository reference "app:1" \(must force\) - container ffffffffffff is using its referenced image aaaaaaaaaaaa/);
    assert.deepEqual(await deleteImage(s.store, 'app:1', ID, { force: true, prune: true }), [{ Untagged: 'app:1' }, { Deleted: ID }]);
    assert.deepEqual(s.removed, [`${ID} (retained)`]);
    s = fakeStore({ refs: ['app:1'], containers: [{ ...stopped, running: true }] });
    await assert.rejects(deleteImage(s.store, ID, ID, { force: true, prune: true }), /\(cannot be forced\) - image is being used by running container ffffffffffff$/);
  });

  test('prune walks up to untagged parents quietly and stops at tagged ones', async () => {
    let s = fakeStore({ refs: ['app:1'], parents: { [ID]: PARENT } });
    let out = await deleteImage(s.store, 'app:1', ID, { force: false, prune: true });
    assert.deepEqual(out.filter((r) => r.Deleted).map((r) => r.Deleted), [ID, 'layer-of-aaa', PARENT, 'layer-of-bbb']);
    s = fakeStore({ refs: ['app:1'], parents: { [ID]: PARENT }, refsOf: { [PARENT]: ['base:1'] } });
    out = await deleteImage(s.store, 'app:1', ID, { force: false, prune: true });
    assert.deepEqual(out.filter((r) => r.Deleted).map((r) => r.Deleted), [ID, 'layer-of-aaa']);
    assert.deepEqual(s.events, ['untag aaa', 'delete aaa']);
  });
});

describe('pruneImages', () => {
  const entry = (id: string, labels: Record<string, string> | undefined, created: string): ImageEntry => ({
    id,
    config: { created, config: labels ? { Labels: labels } : {}, rootfs: { type: 'layers', diff_ids: [] } },
    chainIds: [`chain-${id.slice(7, 10)}`],
    size: 10,
    parent: '',
  });
  const run = async (filters: Record<string, string[]>, tagged: string[] = [], used: string[] = []) => {
    const entries = [entry(ID, { keep: 'yes', tier: 'a' }, '2020-01-01T00:00:00Z'), entry(PARENT, undefined, '2022-01-01T00:00:00Z')];
    const removed: string[] = [];
    const report = await pruneImages(
      {
        entries: () => entries,
        refsFor: (id) => (tagged.includes(id) ? [parseNormalizedReference('x:1')] : []),
        hasChildren: () => false,
        inUse: (id) => used.includes(id),
        layerSize: () => 7,
        remove: async (ref) => {
          removed.push(ref);
          const id = ref.length === 64 ? `sha256:${ref}` : ID;
          return [{ Deleted: id }, { Deleted: `chain-${id.slice(7, 10)}` }];
        },
      },
      filters,
    );
    return { removed, report };
  };

  test('label, label! and until narrow the candidates; space is the deleted layers', async () => {
    assert.deepEqual((await run({ label: ['keep=yes'] })).removed, ['a'.repeat(64)]);
    assert.deepEqual((await run({ 'label!': ['keep'] })).removed, ['b'.repeat(64)]);
    assert.deepEqual((await run({ 'label!': ['keep', 'other'] })).removed.length, 2, 'label! excludes only when all match');
    assert.deepEqual((await run({ until: ['2021-01-01T00:00:00Z'] })).removed, ['a'.repeat(64)]);
    assert.equal((await run({})).report.SpaceReclaimed, 14);
  });

  test('dangling only by default: tagged images stay unless dangling=false', async () => {
    assert.deepEqual((await run({}, [ID])).removed, ['b'.repeat(64)]);
    assert.deepEqual((await run({ dangling: ['false'] }, [ID])).removed, ['docker.io/library/x:1', 'b'.repeat(64)]);
    assert.deepEqual((await run({ dangling: ['false'] }, [ID], [ID])).removed, ['b'.repeat(64)], 'images containers use are never pruned');
    await assert.rejects(run({ nope: ['1'] }), /invalid filter 'nope'/);
    await assert.rejects(run({ until: ['1h', '2h'] }), /more than one until filter specified/);
  });
});
