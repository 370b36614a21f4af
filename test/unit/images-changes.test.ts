import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { EngineError } from '../../src/util/errors';
import { applyChanges } from '../../src/engine/images/changes';
import { expandWord, envLookup, splitWords } from '../../src/engine/images/dockerfile-words';

describe('--change lines', () => {
  test('CMD and ENTRYPOINT take JSON and shell forms', () => {
    assert.deepEqual(applyChanges({}, ['CMD ["sh", "-c", "echo hi"]']).Cmd, ['sh', '-c', 'echo hi']);
    assert.deepEqual(applyChanges({}, ['cmd echo "$HOME"']).Cmd, ['/bin/sh', '-c', 'echo "$HOME"']);
    const withEntrypoint = applyChanges({ Cmd: ['old'] }, ['ENTRYPOINT ["/init"]']);
    assert.deepEqual(withEntrypoint.Entrypoint, ['/init']);
    assert.equal(withEntrypoint.Cmd, null, 'a new entrypoint drops the inherited CMD');
    const both = applyChanges({}, ['CMD ["x"]', 'ENTRYPOINT /run.sh']);
    assert.deepEqual(both.Cmd, ['x']);
    assert.deepEqual(both.Entrypoint, ['/bin/sh', '-c', '/run.sh']);
  });

  test('ENV and LABEL: pairs, quotes, legacy form and expansion against the earlier env', () => {
    const config = applyChanges({ Env: ['PATH=/bin'] }, [
      'ENV A=1 B="two words" C=$A',
      'ENV PATH=/usr/bin:$PATH',
      'ENV LEGACY value with spaces',
      "LABEL a=b 'c d'=\"e f\" from=${A:-none}",
    ]);
    assert.deepEqual(config.Env, ['PATH=/usr/bin:/bin', 'A=1', 'B=two words', 'C=', 'LEGACY=value with spaces']);
    assert.deepEqual(config.Labels, { a: 'b', 'c d': 'e f', from: '1' });
  });

  test('EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, ONBUILD, HEALTHCHECK', () => {
    const config = applyChanges({ WorkingDir: '/srv' }, [
      'EXPOSE 80 53/udp 8000-8001',
      'VOLUME ["/data", "/logs"]',
      'VOLUME /cache',
      'USER nobody:nogroup',
      'WORKDIR app',
      'STOPSIGNAL SIGQUIT',
      'ONBUILD RUN echo built',
      'HEALTHCHECK --interval=30s --retries=3 CMD curl -f http://localhost/',
    ]);
    assert.deepEqual(Object.keys(config.ExposedPorts ?? {}), ['80/tcp', '53/udp', '8000/tcp', '8001/tcp']);
    assert.deepEqual(Object.keys(config.Volumes ?? {}), ['/data', '/logs', '/cache']);
    assert.equal(config.User, 'nobody:nogroup');
    assert.equal(config.WorkingDir, '/srv/app');
    assert.equal(config.StopSignal, 'SIGQUIT');
    assert.deepEqual(config.OnBuild, ['RUN echo built']);
    assert.deepEqual(config.Healthcheck, { Test: ['CMD-SHELL', 'curl -f http://localhost/'], Interval: 30_000_000_000, Retries: 3 });
    assert.deepEqual(applyChanges({}, ['HEALTHCHECK NONE']).Healthcheck, { Test: ['NONE'] });
  });

  test('other instructions and bad arguments are 400s', () => {
    const cases: [string, RegExp][] = [
      ['RUN echo hi', /^RUN is not a valid change command$/],
      ['from busybox', /^from is not a valid change command$/],
      ['EXPOSE 80/foo', /invalid proto/],
      ['STOPSIGNAL NOPE', /Invalid signal: NOPE/],
      ['ONBUILD ONBUILD RUN x', /isn't allowed/],
      ['VOLUME [""]', /can not be an empty string/],
      ['ENV', /requires at least one argument/],
    ];
    for (const [line, message] of cases) {
      assert.throws(() => applyChanges({}, [line]), (err: unknown) => err instanceof EngineError && err.status === 400 && message.test(err.message), line);
    }
  });

  test('the base config is not modified', () => {
    const base = { Env: ['A=1'] };
    applyChanges(base, ['ENV A=2']);
    assert.deepEqual(base, { Env: ['A=1'] });
  });
});

describe('Dockerfile words', () => {
  test('split keeps quotes; expansion removes them and handles escapes and defaults', () => {
    assert.deepEqual(splitWords(`a="b c" d='e f' g\\ h`), [`a="b c"`, `d='e f'`, 'g\\ h']);
    const env = envLookup(['X=1', 'EMPTY=']);
    assert.equal(expandWord(`"$X" '$X' \\$X \${X}y`, env), '1 $X $X 1y');
    assert.equal(expandWord('${EMPTY:-d} ${EMPTY-d} ${NONE+alt} ${X:+alt}', env), 'd   alt');
  });
});
