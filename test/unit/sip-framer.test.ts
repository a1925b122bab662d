import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSipMessage, SipParseError } from '../../host/sip/message.js';
import { SipStreamFramer, type FramerResult } from '../../host/sip/stream-framer.js';
import { VALID } from '../fixtures/sip/rfc4475.js';

function crlf(s: string): Buffer {
  return Buffer.from(s.replace(/\n/g, '\r\n'), 'utf8');
}

const OPTIONS = crlf(`OPTIONS sip:carol@chicago.example.com SIP/2.0
Via: SIP/2.0/TCP pc33.atlanta.example.com;branch=z9hG4bKhjhs8ass877
Max-Forwards: 70
To: <sip:carol@chicago.example.com>
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 63104 OPTIONS
Content-Length: 0

`);

const BODY = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n';
/** crlf() would double the body's CRs, so the body is appended after it. */
const MESSAGE_HEAD = crlf(`MESSAGE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/TCP pc33.atlanta.example.com;branch=z9hG4bK2
Max-Forwards: 70
To: <sip:bob@biloxi.example.com>
From: <sip:alice@atlanta.example.com>;tag=77
Call-ID: framer-2@pc33.atlanta.example.com
CSeq: 2 MESSAGE
Content-Type: application/sdp
l :  ${String(Buffer.byteLength(BODY))}

`);
const WITH_BODY = Buffer.concat([MESSAGE_HEAD, Buffer.from(BODY)]);

function messages(results: FramerResult[]): Buffer[] {
  return results.flatMap((r) => (r.kind === 'message' ? [r.data] : []));
}

function framer(max = 65536): SipStreamFramer {
  return new SipStreamFramer({ maxMessageBytes: max });
}

describe('SipStreamFramer', () => {
  it('cuts several messages out of one segment', () => {
    const f = framer();
    const out = f.push(Buffer.concat([OPTIONS, WITH_BODY, OPTIONS]));
    assert.deepEqual(messages(out), [OPTIONS, WITH_BODY, OPTIONS]);
    assert.equal(f.pendingBytes, 0);
    assert.equal(parseSipMessage(messages(out)[1]!).bodyText, BODY);
  });

  it('reassembles a message delivered byte by byte, reporting pendingBytes', () => {
    const f = framer();
    const all = Buffer.concat([WITH_BODY, OPTIONS]);
    const got: Buffer[] = [];
    for (let i = 0; i < all.length; i++) {
      got.push(...messages(f.push(all.subarray(i, i + 1))));
      if (i === 9) assert.equal(f.pendingBytes, 10);
    }
    assert.deepEqual(got, [WITH_BODY, OPTIONS]);
    assert.equal(f.pendingBytes, 0);
  });

  it('copies a message out of its buffer, so later segments do not change it', () => {
    const f = framer();
    const first = f.push(WITH_BODY.subarray(0, 20));
    assert.equal(first.length, 0);
    const [msg] = messages(f.push(Buffer.concat([WITH_BODY.subarray(20), OPTIONS.subarray(0, 30)])));
    f.push(Buffer.alloc(4000, 0x41));
    assert.deepEqual(msg, WITH_BODY);
  });

  it('splits anywhere: every two-segment cut gives the same messages', () => {
    const all = Buffer.concat([OPTIONS, WITH_BODY, VALID.wsinv]);
    for (let cut = 0; cut <= all.length; cut++) {
      const f = framer();
      const got = [...messages(f.push(all.subarray(0, cut))), ...messages(f.push(all.subarray(cut)))];
      assert.deepEqual(got, [OPTIONS, WITH_BODY, VALID.wsinv], `cut at ${String(cut)}`);
    }
  });

  it('answers CRLFCRLF pings and skips CRLF between messages (RFC 5626 §3.5.1)', () => {
    const f = framer();
    const out = f.push(Buffer.concat([Buffer.from('\r\n\r\n'), OPTIONS, Buffer.from('\r\n'), OPTIONS, Buffer.from('\r\n\r\n')]));
    assert.deepEqual(out.map((r) => r.kind), ['keepalive', 'message', 'message', 'keepalive']);
    const g = framer();
    assert.deepEqual(g.push(Buffer.from('\r\n\r')), []);
    assert.equal(g.pendingBytes, 0);
    assert.deepEqual(g.push(Buffer.from('\n')).map((r) => r.kind), ['keepalive']);
  });

  it('a missing Content-Length is an error 400 with the readable head, then the framer is dead', () => {
    const f = framer();
    const noCl = Buffer.from(OPTIONS.toString().replace('Content-Length: 0\r\n', ''));
    const out = f.push(Buffer.concat([OPTIONS, noCl]));
    assert.equal(out.length, 2);
    const err = out[1];
    assert.ok(err?.kind === 'error');
    assert.equal(err.code, 400);
    assert.deepEqual(err.head, noCl);
    assert.deepEqual(f.push(OPTIONS), []);
  });

  it('a malformed or repeated Content-Length is an error 400', () => {
    for (const cl of ['Content-Length: abc', 'Content-Length: -1', 'Content-Length: 0\r\nl: 0']) {
      const out = framer().push(Buffer.from(OPTIONS.toString().replace('Content-Length: 0', cl)));
      assert.ok(out[0]?.kind === 'error' && out[0].code === 400, cl);
    }
  });

  it('a header section over maxMessageBytes without its blank line is 513', () => {
    const f = framer(1000);
    const out = f.push(Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nX: ${'a'.repeat(1200)}`));
    assert.ok(out[0]?.kind === 'error');
    assert.equal(out[0].code, 513);
    assert.equal(out[0].head, null);
  });

  it('a Content-Length making the message larger than maxMessageBytes is 513 with the head', () => {
    const f = framer(1000);
    const big = Buffer.from(OPTIONS.toString().replace('Content-Length: 0', 'Content-Length: 5000'));
    const out = f.push(big);
    assert.ok(out[0]?.kind === 'error');
    assert.equal(out[0].code, 513);
    assert.deepEqual(out[0].head, big);
    // The head alone still yields a partial message a reply can be built from.
    const head = out[0].head;
    assert.throws(() => parseSipMessage(head), (e) => e instanceof SipParseError && e.replyable);
  });

  it('frames a 60 KB message delivered byte by byte', () => {
    // The blank-line search resumes where it stopped; rescanning from the start on every byte
    // would make this test crawl (speed itself is measured in bench/, not asserted here).
    const body = 'x'.repeat(30000);
    const head = `MESSAGE sip:a@b SIP/2.0\r\nX-Pad: ${'p'.repeat(30000)}\r\nContent-Length: ${String(body.length)}\r\n\r\n`;
    const all = Buffer.from(head + body);
    const f = framer(100000);
    const got: Buffer[] = [];
    for (let i = 0; i < all.length; i++) got.push(...messages(f.push(all.subarray(i, i + 1))));
    assert.deepEqual(got, [all]);
  });
});
