/** The URL form xhttp's url_skip / url_match are tested on (host/http/normalize-path.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeTarget } from '../../host/http/normalize-path.js';

test('unreserved percent-encodings decoded, others kept with upper-case hex; slashes merged; dot segments resolved', () => {
  const cases: [string, string][] = [
    ['/api//private', '/api/private'],
    ['/api/%70rivate', '/api/private'],
    ['/api/./private', '/api/private'],
    ['/api/x/../private', '/api/private'],
    ['/%2e%2E/%2e/api', '/api'],
    ['/../../etc', '/etc'],
    ['/a/b/..', '/a/'],
    ['/a/.', '/a/'],
    ['/a%2fb%7E%41', '/a%2Fb~A'],
    ['/a%zz', '/a%zz'],
    ['///', '/'],
    ['/a//b/?x=//../%70', '/a/b/?x=//../%70'],
    ['http://host:80/a/../b?q', '/b?q'],
    ['HTTP://host', '/'],
    ['http://host?q', '/?q'],
    ['*', '*'],
  ];
  for (const [raw, want] of cases) assert.equal(normalizeTarget(raw), want, raw);
});
