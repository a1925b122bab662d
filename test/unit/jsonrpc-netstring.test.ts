/**
 * The netstring codec, the JSON-RPC message checks and the `servers` parser, on their own: every
 * way a frame can arrive split or packed, and every way it can be wrong.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeNetstring, NetstringDecoder, NetstringError } from '../../host/jsonrpc/netstring.js';
import { jsonTooDeep } from '../../host/json-depth.js';
import { notificationText, parseParams, parseResponse, requestText, topLevelId } from '../../host/jsonrpc/message.js';
import { parseServers } from '../../host/jsonrpc/pool.js';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof NetstringError, String(e));
    return e.code;
  }
  return 'no error';
}

describe('netstring', () => {
  test('encodes the byte length of UTF-8 text', () => {
    assert.equal(encodeNetstring('{"a":1}').toString(), '7:{"a":1},');
    assert.equal(encodeNetstring('é').toString(), '2:é,');
    assert.equal(encodeNetstring('').toString(), '0:,');
  });

  test('several frames in one chunk, and an empty one', () => {
    const d = new NetstringDecoder(100);
    assert.deepEqual(d.push(Buffer.from('3:abc,0:,5:hello,')), ['abc', '', 'hello']);
  });

  test('a frame split at every possible byte, twice in a row', () => {
    const wire = Buffer.concat([encodeNetstring('{"x":"été"}'), Buffer.from('2:ab,')]);
    for (let cut = 1; cut < wire.length; cut++) {
      const d = new NetstringDecoder(100);
      const got = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
      assert.deepEqual(got, ['{"x":"été"}', 'ab'], `cut at ${String(cut)}`);
      assert.equal(d.buffered, 0);
    }
  });

  test('one byte at a time', () => {
    const d = new NetstringDecoder(100);
    const got: string[] = [];
    for (const b of Buffer.from('4:abcd,1:z,')) got.push(...d.push(Buffer.from([b])));
    assert.deepEqual(got, ['abcd', 'z']);
  });

  test('garbage, a leading zero, a missing colon or comma are errors', () => {
    assert.equal(code(() => new NetstringDecoder(100).push(Buffer.from('hello'))), 'bad_length');
    assert.equal(code(() => new NetstringDecoder(100).push(Buffer.from(':abc,'))), 'bad_length');
    assert.equal(code(() => new NetstringDecoder(100).push(Buffer.from('03:abc,'))), 'leading_zero');
    assert.equal(code(() => new NetstringDecoder(100).push(Buffer.from('3x'))), 'no_colon');
    assert.equal(code(() => new NetstringDecoder(100).push(Buffer.from('3:abc;'))), 'no_comma');
    assert.equal(code(() => new NetstringDecoder(100).push(Buffer.from('3:abcd,'))), 'no_comma');
    const d = new NetstringDecoder(100);
    d.push(Buffer.from('3:ab'));
    assert.equal(code(() => d.push(Buffer.from('cX'))), 'no_comma');
  });

  test('a length over the limit is refused before any body byte is held', () => {
    assert.equal(code(() => new NetstringDecoder(100).push(Buffer.from('101:'))), 'too_long');
    assert.equal(code(() => new NetstringDecoder(100).push(Buffer.from('9999999999999'))), 'too_long');
    assert.deepEqual(new NetstringDecoder(3).push(Buffer.from('3:abc,')), ['abc']);
  });
});

describe('JSON-RPC messages', () => {
  test('requests and notifications carry jsonrpc 2.0, the method, params as given; "" leaves params out', () => {
    assert.deepEqual(JSON.parse(requestText(7, 'get', '{"a":[1]}')), { jsonrpc: '2.0', id: 7, method: 'get', params: { a: [1] } });
    assert.deepEqual(JSON.parse(notificationText('n"x', '')), { jsonrpc: '2.0', method: 'n"x' });
  });

  test('params: JSON object or array, the seed\'s single quotes, else refused', () => {
    assert.deepEqual(parseParams(' [1,2] '), { ok: true, text: '[1,2]' });
    assert.deepEqual(parseParams(''), { ok: true, text: '' });
    const seed = parseParams("{'id': 1234, 'name': 'Pe\"tros'}");
    assert.ok(seed.ok);
    assert.deepEqual(JSON.parse(seed.text), { id: 1234, name: 'Pe"tros' });
    assert.equal(parseParams('{"a":').ok, false);
    assert.equal(parseParams('42').ok, false);
    assert.equal(parseParams('"s"').ok, false);
    assert.equal(parseParams("{'a': 'unclosed}").ok, false);
  });

  test('responses: result or error as JSON text; anything else is not a response', () => {
    assert.deepEqual(parseResponse('{"jsonrpc":"2.0","id":1,"result":"x"}', 64), { id: 1, ok: true, result: '"x"' });
    assert.deepEqual(parseResponse('{"id":2,"result":null}', 64), { id: 2, ok: true, result: 'null' });
    assert.deepEqual(parseResponse('{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"no"}}', 64), { id: 3, ok: false, error: '{"code":-32601,"message":"no"}' });
    for (const bad of ['nope', '[]', '[{"id":1,"result":1}]', '{"id":1}', '{"id":1,"result":1,"error":{}}', '{"result":1}', '{"jsonrpc":"1.0","id":1,"result":1}', '{"jsonrpc":"2.0","method":"x","id":1}']) {
      assert.equal(parseResponse(bad, 64), null, bad);
    }
  });
});

describe('answers nested too deeply', () => {
  test('refused unparsed past the depth, the response object being level 1; the id read from the top level', () => {
    assert.deepEqual(parseResponse('{"id":7,"result":[[1]]}', 3), { id: 7, ok: true, result: '[[1]]' });
    assert.deepEqual(parseResponse('{"id":7,"result":[[[1]]]}', 3), { id: 7, ok: false, tooDeep: true });
    const deep = `{"jsonrpc":"2.0","result":${'['.repeat(100_000)}${']'.repeat(100_000)},"id":42}`;
    assert.deepEqual(parseResponse(deep, 64), { id: 42, ok: false, tooDeep: true });
  });

  test('brackets inside strings do not count, escaped quotes do not end a string', () => {
    assert.equal(jsonTooDeep('{"a":"[[[[{{{{\\"}","b":"\\\\"}', 1), false);
    assert.equal(jsonTooDeep('["\\"[[["]', 1), false);
    assert.equal(jsonTooDeep('["\\\\",[[]]]', 2), true);
  });

  test('topLevelId: only a numeric id of the top-level object, never one nested or inside a string', () => {
    assert.equal(topLevelId(' {"result":{"id":1},"x":"\\"id\\":2", "id" : 3 }'), 3);
    assert.equal(topLevelId('{"id":"s"}'), undefined);
    assert.equal(topLevelId('[{"id":1}]'), undefined);
    assert.equal(topLevelId('{"result":[["id",4]]}'), undefined);
    assert.equal(topLevelId('{"a":["x","id"],"id":-5}'), -5);
  });
});

describe('servers parameter', () => {
  test('the seed\'s form', () => {
    assert.deepEqual(parseServers('localhost:9999,2 10.10.0.1:9999,2  backup.server:9999,1 [::1]:80,-1'), [
      { host: 'localhost', port: 9999, priority: 2 },
      { host: '10.10.0.1', port: 9999, priority: 2 },
      { host: 'backup.server', port: 9999, priority: 1 },
      { host: '::1', port: 80, priority: -1 },
    ]);
    assert.deepEqual(parseServers('  '), []);
  });

  test('a bad entry is named', () => {
    assert.throws(() => parseServers('a:1,1 b:99999,1'), /bad server "b:99999,1"/);
    assert.throws(() => parseServers('a:1'), /bad server "a:1"/);
    assert.throws(() => parseServers('a:1,x'), /bad server "a:1,x"/);
    assert.throws(() => parseServers('-a:1,1'), /bad server "-a:1,1"/);
  });
});
