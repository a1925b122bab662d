import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSipMessage, SipParseError, type SipMessage } from '../../host/sip/message.js';
import { parseUri, unescapeUser } from '../../host/sip/uri.js';
import { INVALID, PARSER_ACCEPTS } from '../fixtures/sip/rfc4475-invalid.js';
import { INTMETH_METHOD, INTMETH_USER, MPART_BINARY, sdp, sip, UNREASON_PHRASE, VALID } from '../fixtures/sip/rfc4475.js';

function parse(buf: Buffer): SipMessage {
  return parseSipMessage(buf);
}

/** The SipParseError a parse throws (fails the test when it does not throw one). */
function refusal(buf: Buffer, opts?: { maxMessageBytes: number }): SipParseError {
  try {
    parseSipMessage(buf, opts);
  } catch (e) {
    assert.ok(e instanceof SipParseError, `not a SipParseError: ${String(e)}`);
    assert.equal(e.code, 'KEMI_ERR_SIP_PARSE');
    return e;
  }
  assert.fail('parsed a message that must be refused');
}

const OPTIONS = `OPTIONS sip:carol@chicago.example.com SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKhjhs8ass877;rport
Max-Forwards: 70
To: <sip:carol@chicago.example.com>
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 63104 OPTIONS
Contact: <sip:alice@pc33.atlanta.example.com>
Accept: application/sdp
Content-Length: 0

`;

describe('RFC 4475 valid messages', () => {
  it('wsinv: folding, compact forms, mixed case, LWS everywhere', () => {
    const m = parse(VALID.wsinv);
    assert.equal(m.isRequest, true);
    assert.equal(m.method, 'INVITE');
    assert.equal(m.ruri, 'sip:vivekg@chair-dnrc.example.com;unknownparam');
    assert.equal(m.version, 'SIP/2.0');
    assert.deepEqual([...(m.ruriParsed?.params ?? [])], [['unknownparam', '']]);
    assert.equal(m.to.uri, 'sip:vivekg@chair-dnrc.example.com');
    assert.equal(m.to.displayName, '');
    assert.equal(m.to.tag, '1918181833n');
    assert.equal(m.from.displayName, 'J Rosenberg \\"');
    assert.equal(m.from.uri, 'sip:jdrosen@example.com');
    assert.equal(m.from.tag, '98asjd8');
    assert.equal(m.getHeader('from'), '"J Rosenberg \\\\\\""       <sip:jdrosen@example.com> ; tag = 98asjd8');
    assert.equal(m.maxForwards, 68);
    assert.equal(m.callId, 'wsinv.ndaksdj@192.0.2.1');
    assert.equal(m.contentLength, 150);
    assert.deepEqual(m.cseq, { seq: 9, method: 'INVITE' });
    assert.deepEqual(
      m.vias.map((v) => [v.protocol, v.transport, v.host, v.port, v.branch]),
      [
        ['SIP/2.0/UDP', 'UDP', '192.0.2.2', 0, '390skdjuw'],
        ['SIP/2.0/TCP', 'TCP', 'spindle.example.com', 0, 'z9hG4bK9ikj8'],
        ['SIP/2.0/UDP', 'UDP', '192.168.255.111', 0, 'z9hG4bK30239'],
      ],
    );
    assert.equal(m.topVia.raw, 'SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw');
    assert.equal(m.getHeaders('via').length, 2);
    assert.equal(m.getHeaderElements('v').length, 3);
    assert.equal(m.getHeader('subject'), '');
    assert.equal(m.hasHeader('s'), true);
    assert.equal(m.getHeader('newfangledheader'), 'newfangled value continued newfangled value');
    assert.equal(m.getHeader('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
    assert.equal(m.getHeader('route'), '<sip:services.example.com;lr;unknownwith=value;unknown-no-value>');
    assert.equal(m.getHeader('contact'), '"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam = newvalue ; secondparam ; q = 0.33');
    const names = m.headers.map((h) => [h.rawName, h.name]);
    assert.deepEqual(names.slice(0, 3), [['TO', 'to'], ['from', 'from'], ['MaX-fOrWaRdS', 'max-forwards']]);
    assert.deepEqual(names.find((n) => n[0] === 'm'), ['m', 'contact']);
    assert.equal(m.bodyText, sdp('192.0.2.3').replace('c=IN IP4 192.0.2.3', 'c=IN IP4 192.0.2.4').replace(/\n/g, '\r\n'));
    assert.equal(m.headerBytes + m.contentLength, VALID.wsinv.length);
  });

  it('intmeth: unusual method, URI, branch, quoted controls, token display name, UTF-8', () => {
    const m = parse(VALID.intmeth);
    assert.equal(m.method, INTMETH_METHOD);
    assert.deepEqual(m.cseq, { seq: 139122385, method: INTMETH_METHOD });
    const u = m.ruriParsed;
    assert.ok(u !== null);
    assert.equal(u.user, INTMETH_USER);
    assert.equal(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.equal(u.host, 'example.com');
    assert.equal(m.topVia.transport, 'TCP');
    assert.equal(m.topVia.branch, "z9hG4bK-.!%66*_+`'~");
    assert.equal(m.to.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
    assert.equal(m.to.uri, `sip:${INTMETH_USER}@example.com`);
    assert.equal(m.from.displayName, "token1~` token2'+_ token3*%!.-");
    assert.equal(m.from.params.get("fromparam''~+*_!.-%"), '"работающий"');
    assert.equal(m.from.tag, "_token~1'+`*%!-.");
    assert.equal(m.callId, 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    assert.equal(m.maxForwards, 255);
    assert.equal(m.getHeader("extensionheader-!.%*+_`'~"), '\uFEFF大停電');
    assert.equal(m.headerEncoding, 'utf8');
  });

  it('esc01: escaped URIs are kept as written and unescape on request', () => {
    const m = parse(VALID.esc01);
    assert.equal(m.ruriParsed?.user, 'sips%3Auser%40example.com');
    assert.equal(unescapeUser(m.ruriParsed.user), 'sips:user@example.com');
    assert.equal(m.ruriParsed.host, 'example.net');
    assert.equal(unescapeUser(parseUri(m.to.uri)?.user ?? ''), 'user');
    assert.equal(unescapeUser(parseUri(m.from.uri)?.user ?? ''), 'I have spaces');
    assert.equal(m.callId, 'esc01.239409asdfakjkn23onasd0-3234');
    assert.equal(m.getHeader('Content-Type'), 'application/sdp');
    const contact = parseUri(m.getHeaderElements('m')[0]?.slice(1, -1) ?? '');
    assert.equal(contact?.user, 'cal%6Cer');
    assert.deepEqual([...contact.params], [['%6c%72', ''], ['n%61me', 'v%61lue%25%34%31']]);
  });

  it('escnull: escaped NULs in URIs', () => {
    const m = parse(VALID.escnull);
    assert.equal(parseUri(m.to.uri)?.user, 'null-%00-null');
    assert.equal(unescapeUser('null-%00-null'), 'null-\x00-null');
    assert.deepEqual(m.getHeaders('contact'), ['<sip:%00@host5.example.com>', '<sip:%00%00@host5.example.com>']);
    assert.equal(m.contentLength, 0);
  });

  it('esc02: % in a method and a header name is not an escape', () => {
    const m = parse(VALID.esc02);
    assert.equal(m.method, 'RE%47IST%45R');
    assert.equal(m.cseq.method, 'RE%47IST%45R');
    assert.equal(m.to.displayName, '%Z%45');
    assert.equal(m.topVia.branch, 'z9hG4bK209%fzsnel234');
    assert.deepEqual(m.getHeaders('Contact'), ['<sip:alias1@host1.example.com>', '<sip:alias3@host3.example.com>']);
    assert.equal(m.getHeader('C%6Fntact'), '<sip:alias2@host2.example.com>');
    assert.ok(m.headers.some((h) => h.name === 'c%6fntact'));
  });

  it('lwsdisp: no LWS between display name and <', () => {
    const m = parse(VALID.lwsdisp);
    assert.deepEqual([m.from.displayName, m.from.uri, m.from.tag], ['caller', 'sip:caller@example.com', '323']);
  });

  it('longreq: long values and 34 Via header lines in many spellings', () => {
    const m = parse(VALID.longreq);
    assert.equal(m.vias.length, 34);
    assert.equal(m.getHeaders('VIA').length, 34);
    assert.equal(m.vias[0]?.host, 'sip33.example.com');
    assert.equal(m.vias[16]?.host, 'sip17.example.com');
    const last = m.vias[33];
    assert.equal(last?.host, 'host.example.com');
    assert.equal(last.received, '192.0.2.5');
    assert.equal(last.branch, `very${'long'.repeat(50)}branchvalue`);
    assert.ok(m.to.displayName.startsWith('I have a user name of extremeextreme'));
    assert.equal(parseUri(m.to.uri)?.port, 6000);
    assert.equal(m.from.tag.length, 155);
    assert.equal(m.callId, `longreq.one${'really'.repeat(20)}longcallid`);
    assert.equal(m.contentLength, 150);
  });

  it('dblreq: Content-Length governs, trailing octets of a datagram are ignored', () => {
    const m = parse(VALID.dblreq);
    assert.equal(m.method, 'REGISTER');
    assert.equal(m.contentLength, 0);
    assert.equal(m.body.length, 0);
    assert.equal(m.callId, 'dblreq.0ha0isndaksdj99sdfafnl3lk233412');
  });

  it('semiuri: semicolons in the user part; a folded list header', () => {
    const m = parse(VALID.semiuri);
    assert.equal(m.ruriParsed?.user, 'user;par=u%40example.net');
    assert.equal(m.ruriParsed.host, 'example.com');
    assert.equal(m.ruriParsed.params.size, 0);
    assert.equal(
      m.getHeader('accept'),
      'application/sdp, application/pkcs7-mime, multipart/mixed, multipart/signed, message/sip, message/sipfrag',
    );
    assert.equal(m.getHeaderElements('accept').length, 6);
  });

  it('transports: known and unknown transports', () => {
    const m = parse(VALID.transports);
    assert.deepEqual(m.vias.map((v) => v.transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
    assert.equal(m.vias[3]?.protocol, 'SIP/2.0/UNKNOWN');
    assert.equal(m.callId, 'transports.kijh4akdnaqjkwendsasfdj');
  });

  it('mpart01: a binary multipart body is kept byte for byte', () => {
    const m = parse(VALID.mpart01);
    assert.equal(m.body.length, m.contentLength);
    assert.ok(m.body.includes(MPART_BINARY));
    assert.equal(m.topVia.rport, '');
    assert.equal(m.topVia.port, 5070);
    assert.equal(m.getHeader('content-type'), 'multipart/mixed;boundary=7a9cbec02ceef655');
  });

  it('unreason: a UTF-8 reason phrase', () => {
    const m = parse(VALID.unreason);
    assert.equal(m.isRequest, false);
    assert.equal(m.status, 200);
    assert.equal(m.reason, UNREASON_PHRASE);
    assert.equal(m.method, 'INVITE');
    assert.equal(m.ruri, '');
    assert.equal(m.ruriParsed, null);
    assert.equal(m.contentLength, 154);
    assert.equal(m.headerEncoding, 'utf8');
  });

  it('noreason: an empty reason phrase', () => {
    const m = parse(VALID.noreason);
    assert.deepEqual([m.status, m.reason, m.method], [100, '', 'INVITE']);
  });
});

describe('RFC 4475 messages the parser refuses', () => {
  // replyable: the start line, Via, From, To, Call-ID and CSeq were readable, so a 400 can be sent.
  const expected: Record<keyof typeof INVALID, boolean> = {
    badinv01: false, clerr: true, ncl: true, scalar02: false, scalarlg: false, quotbal: false, ltgtruri: true,
    lwsruri: true, lwsstart: true, trws: true, escruri: true, regbadct: true, badaspec: false, baddn: false,
    badvers: true, bigcode: false, insuf: false, multi01: true, mcl01: true,
  };
  for (const [name, buf] of Object.entries(INVALID)) {
    it(name, () => {
      const e = refusal(buf);
      assert.equal(e.status, 400);
      assert.equal(e.replyable, expected[name as keyof typeof INVALID]);
      assert.equal(e.partial !== null, e.replyable);
    });
  }

  it('a replyable partial carries what a reply needs', () => {
    const p = refusal(INVALID.clerr).partial;
    assert.ok(p !== null);
    assert.equal(p.callId, 'clerr.0ha0isndaksdjweiafasdk3');
    assert.equal(p.topVia.branch, 'z9hG4bK-39234-23523');
    assert.equal(p.from.tag, '93942939o2');
    assert.deepEqual(p.cseq, { seq: 8, method: 'INVITE' });
    assert.equal(refusal(INVALID.badvers).partial?.method, 'OPTIONS');
  });
});

describe('RFC 4475 messages with faults a later stage handles', () => {
  for (const [name, buf] of Object.entries(PARSER_ACCEPTS)) it(`${name} parses`, () => {
    parse(buf);
  });

  it('mismatch01/02: the CSeq method is reported as written (sanity compares it)', () => {
    assert.deepEqual([parse(PARSER_ACCEPTS.mismatch01).method, parse(PARSER_ACCEPTS.mismatch01).cseq.method], ['OPTIONS', 'INVITE']);
    assert.equal(parse(PARSER_ACCEPTS.mismatch02).method, 'NEWMETHOD');
  });

  it('zeromf, cparam01, inv2543, unkscm, bcast', () => {
    assert.equal(parse(PARSER_ACCEPTS.zeromf).maxForwards, 0);
    assert.equal(parse(PARSER_ACCEPTS.cparam01).getHeader('contact'), 'sip:+19725552222@gw1.example.net;unknownparam');
    const old = parse(PARSER_ACCEPTS.inv2543);
    assert.deepEqual([old.maxForwards, old.from.tag, old.topVia.branch], [-1, '', '']);
    assert.equal(old.contentLength, old.raw.length - old.headerBytes);
    const unk = parse(PARSER_ACCEPTS.unkscm);
    assert.deepEqual([unk.ruri, unk.ruriParsed], ['nobodyKnowsThisScheme:totallyopaquecontent', null]);
    assert.equal(parse(PARSER_ACCEPTS.bcast).vias[1]?.host, '255.255.255.255');
    assert.equal(parse(PARSER_ACCEPTS.unksm2).to.uri, 'isbn:2983792873');
  });
});

describe('SipMessage header access', () => {
  const m = parse(sip(OPTIONS));

  it('reads names case-insensitively, compact or full', () => {
    assert.equal(m.getHeader('CALL-ID'), 'a84b4c76e66710@pc33.atlanta.example.com');
    assert.equal(m.getHeader('i'), m.getHeader('call-id'));
    assert.equal(m.getHeader('accept'), 'application/sdp');
    assert.equal(m.getHeader('x-nothing'), undefined);
    assert.equal(m.hasHeader('Max-Forwards'), true);
    assert.equal(m.maxForwards, 70);
    assert.equal(m.headers.length, 9);
    assert.deepEqual(m.headers[0], { name: 'via', rawName: 'Via', value: 'SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKhjhs8ass877;rport' });
  });

  it('keeps separate header lines apart and splits elements on request', () => {
    const two = parse(sip(OPTIONS.replace('Accept: application/sdp', 'Route: <sip:a.example.com;lr>, <sip:b.example.com;lr>\nRoute: <sip:c,d@e.example.com;lr>')));
    assert.deepEqual(two.getHeaders('route'), ['<sip:a.example.com;lr>, <sip:b.example.com;lr>', '<sip:c,d@e.example.com;lr>']);
    assert.deepEqual(two.getHeaderElements('route'), ['<sip:a.example.com;lr>', '<sip:b.example.com;lr>', '<sip:c,d@e.example.com;lr>']);
  });

  it('accepts lowercase sip/2.0 and a status line without a reason', () => {
    assert.equal(parse(sip(OPTIONS.replace(' SIP/2.0', ' sip/2.0'))).version, 'SIP/2.0');
    const reply = parse(sip(OPTIONS.replace('OPTIONS sip:carol@chicago.example.com SIP/2.0', 'SIP/2.0 200')));
    assert.deepEqual([reply.status, reply.reason, reply.method], [200, '', 'OPTIONS']);
  });

  it('decodes a header section that is not UTF-8 as latin1, byte for byte', () => {
    const bytes = Buffer.concat([
      Buffer.from(OPTIONS.replace(/\n/g, '\r\n').replace('From: Alice', 'From: "M\u00fcller"'), 'latin1'),
    ]);
    const m2 = parse(bytes);
    assert.equal(m2.headerEncoding, 'latin1');
    assert.equal(m2.from.displayName, 'M\u00fcller');
    assert.deepEqual(Buffer.from(m2.getHeader('from') ?? '', 'latin1'), Buffer.from('"M\u00fcller" <sip:alice@atlanta.example.com>;tag=1928301774', 'latin1'));
  });

  it('reads a header section longer than the first decoded block', () => {
    const big = OPTIONS.replace('Accept: application/sdp', `X-Long: ${'a'.repeat(6000)}\nAccept: application/sdp`);
    const m2 = parse(sip(big));
    assert.equal(m2.getHeader('x-long')?.length, 6000);
    assert.equal(m2.getHeader('accept'), 'application/sdp');
  });

  it('throws from vias when a Via below the top is malformed', () => {
    const m2 = parse(sip(OPTIONS.replace('Max-Forwards: 70', 'Via: SIP/2.0/UDP ;;\nMax-Forwards: 70')));
    assert.equal(m2.topVia.branch, 'z9hG4bKhjhs8ass877');
    assert.throws(() => m2.vias, SipParseError);
  });
});

describe('bad input', () => {
  it('garbage bytes only ever raise SipParseError', () => {
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let n = 0; n < 2000; n++) {
      const len = Math.floor(rand() * 600);
      const buf = Buffer.alloc(len);
      for (let i = 0; i < len; i++) buf[i] = rand() < 0.3 ? [13, 10, 58, 32, 59, 60, 62, 34][Math.floor(rand() * 8)]! : Math.floor(rand() * 256);
      refusal(buf);
    }
  });

  it('a message cut at any offset is refused, never crashes', () => {
    for (const whole of [VALID.wsinv, sip(OPTIONS), VALID.intmeth, VALID.unreason]) {
      for (let cut = 0; cut < whole.length; cut++) refusal(whole.subarray(0, cut));
      parse(whole);
    }
  });

  it('a missing mandatory header is refused and cannot be answered', () => {
    for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
      const text = OPTIONS.split('\n').filter((l) => !l.startsWith(`${name}:`)).join('\n');
      const e = refusal(sip(text));
      assert.equal(e.status, 400);
      assert.equal(e.replyable, false, name);
    }
  });

  it('Content-Length: not digits, larger than the body, repeated', () => {
    for (const cl of ['abc', '-1', '1.5', '', '99999999999999999999', '1']) {
      const e = refusal(sip(OPTIONS.replace('Content-Length: 0', `Content-Length: ${cl}`)));
      assert.equal(e.status, 400, cl);
      assert.equal(e.replyable, true, cl);
    }
  });

  it('a message larger than maxMessageBytes is 513 and answerable', () => {
    const body = 'x'.repeat(70000);
    const e = refusal(sip(OPTIONS.replace('Content-Length: 0', `Content-Length: ${String(body.length)}`) + body));
    assert.equal(e.status, 513);
    assert.equal(e.replyable, true);
    assert.equal(refusal(sip(OPTIONS), { maxMessageBytes: 100 }).status, 513);
    assert.equal(parseSipMessage(sip(OPTIONS), { maxMessageBytes: 406 }).method, 'OPTIONS');
  });

  it('a header line without a colon, or with a bad name, is refused but answerable', () => {
    for (const line of ['Accept application/sdp', 'Acc ept: x', 'Acc\u00e9pt: x', ': x']) {
      const e = refusal(sip(OPTIONS.replace('Accept: application/sdp', line)));
      assert.equal(e.replyable, true, line);
    }
  });

  it('bare LF and bare CR are refused (RFC 3261 §7: lines end in CRLF)', () => {
    refusal(Buffer.from(OPTIONS, 'latin1'));
    refusal(Buffer.from(OPTIONS.replace(/\n/g, '\r\n').replace('Accept: application/sdp\r\n', 'Accept: application/sdp\n'), 'latin1'));
    refusal(Buffer.from(OPTIONS.replace(/\n/g, '\r\n').replace('Accept: application', 'Accept: app\rlication'), 'latin1'));
  });

  it('no blank line after the headers is refused but answerable', () => {
    const e = refusal(sip(OPTIONS.slice(0, -1)));
    assert.equal(e.replyable, true);
  });

  it('a folded line right after the start line is refused', () => {
    refusal(sip(OPTIONS.replace('SIP/2.0\nVia', 'SIP/2.0\n x\nVia')));
  });
});
