import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { EngineError } from '../../src/util/errors';
import { normalizeReference, repoTagReference, familiarString } from '../../src/engine/images/reference';

describe('normalizeReference', () => {
  test('official images are docker.io/library, shown without both', () => {
    for (const ref of ['busybox', 'busybox:latest', 'library/busybox', 'docker.io/library/busybox:latest', 'index.docker.io/busybox']) {
      assert.deepEqual(
        normalizeReference(ref),
        {
          familiar: 'busybox:latest',
          repo: 'docker.io/library/busybox',
          familiarRepo: 'busybox',
          tag: 'latest',
          full: 'docker.io/library/busybox:latest',
        },
        ref,
      );
    }
  });

  test('user repositories, registries with ports, localhost and digests', () => {
    assert.equal(normalizeReference('mytest/commit:2').full, 'docker.io/mytest/commit:2');
    assert.equal(normalizeReference('mytest/commit:2').familiar, 'mytest/commit:2');
    const registry = normalizeReference('localhost:5000/x:1');
    assert.equal(registry.familiar, 'localhost:5000/x:1');
    assert.equal(registry.repo, 'localhost:5000/x');
    assert.equal(normalizeReference('localhost/x').familiar, 'localhost/x:latest');
    assert.equal(normalizeReference('ghcr.io/a/b/c').full, 'ghcr.io/a/b/c:latest');
    // A first component without '.', ':' or "localhost" is a path, not a registry.
    assert.equal(normalizeReference('foo/bar').full, 'docker.io/foo/bar:latest');
    const digest = 'sha256:' + 'a'.repeat(64);
    const byDigest = normalizeReference(`busybox@${digest}`);
    assert.equal(byDigest.tag, '');
    assert.equal(byDigest.digest, digest);
    assert.equal(byDigest.familiar, `busybox@${digest}`);
  });

  test('invalid references are 400s with Docker\'s messages', () => {
    const cases: [string, RegExp][] = [
      ['Busybox', /repository name \(library\/Busybox\) must be lowercase/],
      ['a'.repeat(64), /cannot specify 64-byte hexadecimal strings/],
      ['bad name', /invalid reference format/],
      ['x:bad:tag', /invalid reference format/],
      ['', /invalid reference format/],
      ['busybox@sha256:short', /invalid reference format/],
    ];
    for (const [ref, message] of cases) {
      assert.throws(() => normalizeReference(ref), (err: unknown) => err instanceof EngineError && err.status === 400 && message.test(err.message), ref);
    }
  });
});

describe('repoTagReference', () => {
  test('the tag parameter wins, latest by default, digests refused', () => {
    assert.equal(familiarString(repoTagReference('mytest/imported:1')), 'mytest/imported:1');
    assert.equal(familiarString(repoTagReference('mytest/imported:1', '2')), 'mytest/imported:2');
    assert.equal(familiarString(repoTagReference('docker.io/library/x')), 'x:latest');
    assert.throws(() => repoTagReference('x@sha256:' + 'b'.repeat(64)), /cannot import digest reference/);
    assert.throws(() => repoTagReference('x', 'bad tag'), /invalid tag format/);
  });
});
