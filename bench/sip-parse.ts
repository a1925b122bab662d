/**
 * SIP parser comparison: our host/sip parser against npm `sip` and `drachtio-sip`, on a 910-byte
 * INVITE with SDP and a 406-byte OPTIONS (bench/fixtures/, stored with LF, sent with CRLF).
 * Prints one line per figure, `name value unit`:
 *   sip_parse_<parser>_<msg> <µs per parse, median of interleaved rounds> us
 *   sip_parse_<parser>_accepts_invalid <must-reject messages it accepted, of N> count
 *   sip_parse_<parser>_rejects_valid <valid messages it refused> count
 * Run: node --import tsx bench/sip-parse.ts
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseSipMessage } from '../host/sip/message.js';
import { INVALID, PARSER_ACCEPTS } from '../test/fixtures/sip/rfc4475-invalid.js';
import { VALID } from '../test/fixtures/sip/rfc4475.js';

const require = createRequire(import.meta.url);
// Both packages are untyped CommonJS; these are the only calls used.
const sipjs = require('sip') as { parse(data: Buffer): unknown };
const drachtio = require('drachtio-sip') as { parser: { parseSipMessage(s: string, lazy: boolean): unknown } };

function fixture(name: string): Buffer {
  const text = readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'latin1');
  return Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1');
}

const MESSAGES = { invite: fixture('invite.txt'), options: fixture('options.txt') };
let sink = 0;

/** Each parse reads what a router reads on every message, so lazy parsers pay for it too. */
const PARSERS: Record<string, (b: Buffer) => unknown> = {
  kemihost: (b) => {
    const m = parseSipMessage(b);
    sink += m.topVia.branch.length + m.from.tag.length + m.callId.length + m.cseq.seq;
    return m;
  },
  sip: (b) => sipjs.parse(b),
  drachtio: (b) => drachtio.parser.parseSipMessage(b.toString('utf8'), false),
};

function accepts(parse: (b: Buffer) => unknown, b: Buffer): boolean {
  try {
    return Boolean(parse(b));
  } catch {
    return false;
  }
}

const OPTIONS_TEXT = MESSAGES.options.toString('latin1');
/** Bad input beyond RFC 4475 that RFC 3261 says to refuse. */
const BAD_INPUT: Record<string, Buffer> = {
  'content-length-abc': Buffer.from(OPTIONS_TEXT.replace('Content-Length: 0', 'Content-Length: abc'), 'latin1'),
  'content-length-over-body': Buffer.from(OPTIONS_TEXT.replace('Content-Length: 0', 'Content-Length: 20'), 'latin1'),
  'lf-only': Buffer.from(OPTIONS_TEXT.replace(/\r\n/g, '\n'), 'latin1'),
  'no-blank-line': Buffer.from(OPTIONS_TEXT.slice(0, -2), 'latin1'),
  'line-without-colon': Buffer.from(OPTIONS_TEXT.replace('Accept: application/sdp', 'Accept application/sdp'), 'latin1'),
  'missing-call-id': Buffer.from(OPTIONS_TEXT.replace(/Call-ID: [^\r]*\r\n/, ''), 'latin1'),
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function timeParsers(): void {
  const ROUNDS = 21;
  const PER_ROUND = 5000;
  const samples = new Map<string, number[]>();
  for (const parse of Object.values(PARSERS)) for (let i = 0; i < 50000; i++) for (const m of Object.values(MESSAGES)) parse(m);
  // Rounds interleave the parsers so a noisy neighbour hurts them all alike.
  for (let r = 0; r < ROUNDS; r++) {
    for (const [pname, parse] of Object.entries(PARSERS)) {
      for (const [mname, msg] of Object.entries(MESSAGES)) {
        const t = process.hrtime.bigint();
        for (let i = 0; i < PER_ROUND; i++) parse(msg);
        const ns = Number(process.hrtime.bigint() - t);
        const key = `sip_parse_${pname}_${mname}`;
        const list = samples.get(key) ?? [];
        list.push(ns / 1000 / PER_ROUND);
        samples.set(key, list);
      }
    }
  }
  for (const [key, list] of samples) console.log(`${key} ${median(list).toFixed(2)} us`);
}

function correctness(): void {
  const mustReject = { ...INVALID, ...BAD_INPUT };
  const valid = { ...VALID, ...PARSER_ACCEPTS };
  const total = Object.keys(mustReject).length;
  for (const [pname, parse] of Object.entries(PARSERS)) {
    const wrongAccepts = Object.entries(mustReject).filter(([, b]) => accepts(parse, b)).map(([n]) => n);
    const wrongRejects = Object.entries(valid).filter(([, b]) => !accepts(parse, b)).map(([n]) => n);
    console.log(`sip_parse_${pname}_accepts_invalid ${String(wrongAccepts.length)} count`);
    console.log(`# ${pname} accepted ${String(wrongAccepts.length)} of ${String(total)} must-reject: ${wrongAccepts.join(' ')}`);
    console.log(`sip_parse_${pname}_rejects_valid ${String(wrongRejects.length)} count`);
    if (wrongRejects.length > 0) console.log(`# ${pname} refused valid: ${wrongRejects.join(' ')}`);
  }
}

correctness();
timeParsers();
if (sink === -1) console.log('');
