/**
 * What the guards on peer and script input cost (issue 13):
 *   json_prescan_<doc>_per_kb   the depth pre-scan (host/json-depth.ts), ns per KB of JSON
 *   json_parse_<doc>_per_kb     JSON.parse of the same text, for scale
 *   json_stringify_<doc>_per_kb JSON.stringify of the parsed value (what jsonrpc does next)
 *   regex_<engine>_<pattern>    one test() of a script-supplied pattern on a typical key, ns
 *   regex_re2js_compile         compiling one pattern with re2js (a cache miss), us
 *   regex_cache_hit             RegexCache.get of a cached pattern, ns
 *   regex_re2js_catastrophic_<n> `(a+)+$` over n "a"s and a "!" (RegExp: ~10 s at n = 27), us
 * Docs: a typical JSON-RPC answer (objects, strings, numbers, ~1 KB), string-heavy (~74 KB),
 * strings full of escaped quotes (~61 KB) and number arrays (~49 KB). Each figure is a median.
 * Run: node --import tsx bench/peer-input.ts
 */
import { RE2JS } from 're2js';
import { jsonTooDeep } from '../host/json-depth.js';
import { RegexCache } from '../host/safe-regex.js';

let sink = 0;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/** ns per call of fn, median of rounds of `n` calls */
function measure(fn: () => void, n: number, rounds = 15): number {
  for (let i = 0; i < n; i++) fn();
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    out.push(Number(process.hrtime.bigint() - t) / n);
  }
  return median(out);
}

function print(name: string, value: number, unit: string): void {
  process.stdout.write(`${name} ${value.toFixed(value < 10 ? 2 : 0)} ${unit}\n`);
}

const typical = JSON.stringify({
  jsonrpc: '2.0',
  id: 4711,
  result: {
    routes: Array.from({ length: 12 }, (_, i) => ({ gw: `gw${String(i)}.example.net`, prio: i, weight: 10 * i, enabled: i % 2 === 0, tags: ['pstn', 'eu'] })),
    ttl: 300,
  },
});
const lines = (s: string): string => JSON.stringify({ jsonrpc: '2.0', id: 1, result: Array.from({ length: 512 }, (_, i) => `line ${String(i)}: ${s.repeat(5)}`) });
const DOCS = {
  typical,
  strings: lines('lorem ipsum dolor sit amet '),
  escapes: lines('lorem "ipsum" dolor '),
  numbers: JSON.stringify({ jsonrpc: '2.0', id: 1, result: Array.from({ length: 4000 }, (_, i) => [i, i * 1.5]) }),
};

for (const [name, text] of Object.entries(DOCS)) {
  const kb = text.length / 1024;
  const n = Math.max(50, Math.round(20_000 / kb));
  const v = JSON.parse(text) as unknown;
  const scan = measure(() => { if (jsonTooDeep(text, 64)) sink++; }, n);
  const parse = measure(() => { sink += (JSON.parse(text) as { id: number }).id; }, n);
  const str = measure(() => { sink += JSON.stringify(v).length; }, n);
  process.stderr.write(`# ${name}: ${kb.toFixed(1)} KB\n`);
  print(`json_prescan_${name}_per_kb`, scan / kb, 'ns');
  print(`json_parse_${name}_per_kb`, parse / kb, 'ns');
  print(`json_stringify_${name}_per_kb`, str / kb, 'ns');
}

const PATTERNS: Record<string, string> = { prefix: '^user:[0-9]+$', alternation: '^(alice|bob|carol)@example\\.(com|net)', dotstar: 'sip:.*@10\\.0\\.' };
const key = 'user:4711@example.com;transport=tcp';
for (const [name, src] of Object.entries(PATTERNS)) {
  const js = new RegExp(src, 'i');
  const re2 = RE2JS.compile(src, RE2JS.CASE_INSENSITIVE);
  print(`regex_regexp_${name}`, measure(() => { if (js.test(key)) sink++; }, 200_000), 'ns');
  print(`regex_re2js_${name}`, measure(() => { if (re2.test(key)) sink++; }, 200_000), 'ns');
}
print('regex_re2js_compile', measure(() => { sink += RE2JS.compile('^(alice|bob|carol)@example\\.(com|net)', RE2JS.CASE_INSENSITIVE).groupCount(); }, 2000) / 1000, 'us');
const cache = new RegexCache();
cache.get('^(alice|bob|carol)@example\\.(com|net)', true);
print('regex_cache_hit', measure(() => { if (cache.get('^(alice|bob|carol)@example\\.(com|net)', true).ok) sink++; }, 200_000), 'ns');
const evil = RE2JS.compile('(a+)+$');
for (const n of [27, 100_000]) {
  const hostile = `${'a'.repeat(n)}!`;
  print(`regex_re2js_catastrophic_${String(n)}`, measure(() => { if (evil.test(hostile)) sink++; }, n > 1000 ? 5 : 2000) / 1000, 'us');
}
if (sink === 0.5) process.stderr.write('#\n');
