import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { goJsonString, goMarshalObjectFromRaw } from '../../src/util/go-json';
import { goTimeText } from '../../src/engine/images/time';

test('strings as encoding/json writes them: <, >, &, U+2028 and U+2029 escaped', () => {
  assert.equal(goJsonString('a && b <c> "q" \\ \n\t é \u2028'), '"a \\u0026\\u0026 b \\u003cc\\u003e \\"q\\" \\\\ \\n\\t é \\u2028"');
});

test('a raw object re-marshalled as a Go map: sorted keys, compacted values, numbers as written, keys dropped and added', () => {
  const raw = '{\n  "z": [1, 2.50, 1e3],\n  "id": "x",\n  "a": {"k": "v <w>", "n": null},\n  "Size": 7,\n  "é": true,\n  "B": "s\\u00e9 & \\"t\\""\n}';
  assert.equal(
    goMarshalObjectFromRaw(raw, new Set(['id', 'Size']), { rootfs: '{"type":"layers"}' }),
    '{"B":"s\\u00e9 \\u0026 \\"t\\"","a":{"k":"v \\u003cw\\u003e","n":null},"rootfs":{"type":"layers"},"z":[1,2.50,1e3],"é":true}',
  );
  // later duplicates win, as json.Unmarshal into a map does
  assert.equal(goMarshalObjectFromRaw('{"a":1,"a":2}', new Set(), {}), '{"a":2}');
  assert.equal(goMarshalObjectFromRaw('{}', new Set(), {}), '{}');
  assert.throws(() => goMarshalObjectFromRaw('[1]', new Set(), {}), /not a JSON object/);
  assert.throws(() => goMarshalObjectFromRaw('{"a": [1, }', new Set(), {}), SyntaxError);
});

test('times as Go writes a parsed RFC 3339 time', () => {
  assert.equal(goTimeText('2015-10-01T12:00:01.000000000+00:00'), '2015-10-01T12:00:01Z');
  assert.equal(goTimeText('2015-10-01T12:00:00.500000000Z'), '2015-10-01T12:00:00.5Z');
  assert.equal(goTimeText('2015-10-01T12:00:00.1234567891Z'), '2015-10-01T12:00:00.123456789Z');
  assert.equal(goTimeText('2015-10-01T14:00:00.25+02:00'), '2015-10-01T14:00:00.25+02:00');
  assert.equal(goTimeText('2015-10-01 12:00:00'), undefined);
});
