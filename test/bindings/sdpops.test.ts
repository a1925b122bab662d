/**
 * KSR.sdpops (and textops' is_audio_on_hold) on a real server, both engines: a UAC sends an
 * INVITE with SDP, the script edits it and forwards it statelessly to a UDP next hop; the cases
 * assert the SDP the next hop received and the return codes (X-Rc).
 */
import assert from 'node:assert/strict';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';
import { FORWARD, rcLine, script } from '../helpers/text-cases.js';

const SDP = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 4000 RTP/AVP 0 8 18 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=X-vendor:1',
  'a=sendrecv',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  '',
].join('\r\n');

const NEXT = { transport: 'udp' as const };
const INVITE = { method: 'INVITE', ruri: 'sip:bob@127.0.0.1:{next}', headers: ['Content-Type: application/sdp'], body: SDP };
const HOLD = { ...INVITE, body: SDP.replace('a=sendrecv', 'a=sendonly') };

/** The m= lines and the attribute lines of the SDP the next hop got. */
function sdpLines(body: string, prefix: string): string[] {
  return body.split('\r\n').filter((l) => l.startsWith(prefix));
}

const cases: BindingCase[] = [
  {
    name: 'remove_codecs_by_name takes the payload type off the m= line with its rtpmap/fmtp lines',
    ...script(rcLine('KSR.sdpops.remove_codecs_by_name("PCMA,G729", "")'), FORWARD),
    request: INVITE,
    next: NEXT,
    expect: {
      status: 200,
      forwarded: {
        headers: { 'X-Rc': '0' },
        check: (req) => {
          assert.deepEqual(sdpLines(req.bodyText, 'm='), ['m=audio 4000 RTP/AVP 0 101', 'm=video 0 RTP/AVP 96']);
          assert.deepEqual(sdpLines(req.bodyText, 'a=rtpmap'), ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=rtpmap:96 H264/90000']);
          assert.deepEqual(sdpLines(req.bodyText, 'a=fmtp'), ['a=fmtp:101 0-16']);
          assert.equal(req.contentLength, Buffer.byteLength(req.bodyText));
        },
      },
    },
  },
  {
    name: 'successive edits build on each other: remove_codecs_by_id, keep_codecs_by_name for audio, remove_line_by_prefix, remove_media',
    ...script(
      'local a = KSR.sdpops.remove_codecs_by_id("18", "audio")',
      'local b = KSR.sdpops.keep_codecs_by_name("PCMU,telephone-event", "audio")',
      'local c = KSR.sdpops.remove_line_by_prefix("a=X-", "")',
      'local d = KSR.sdpops.remove_media("video")',
      rcLine('a', 'b', 'c', 'd', 'KSR.sdpops.remove_media("image")'),
      FORWARD),
    request: INVITE,
    next: NEXT,
    expect: {
      status: 200,
      forwarded: {
        headers: { 'X-Rc': '0,0,1,1,0' },
        check: (req) => {
          assert.deepEqual(sdpLines(req.bodyText, 'm='), ['m=audio 4000 RTP/AVP 0 101']);
          assert.deepEqual(sdpLines(req.bodyText, 'a=X-'), []);
          assert.deepEqual(sdpLines(req.bodyText, 'a=rtpmap'), ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000']);
        },
      },
    },
  },
  {
    name: 'tests read the SDP: sdp_with_media, _active_media, _codecs_by_name/id, _transport(_like), _ice, sdp_content',
    ...script(
      rcLine('KSR.sdpops.sdp_with_media("audio")', 'KSR.sdpops.sdp_with_media("image")', 'KSR.sdpops.sdp_with_active_media("audio")', 'KSR.sdpops.sdp_with_active_media("video")',
        'KSR.sdpops.sdp_with_codecs_by_name("PCMU")', 'KSR.sdpops.sdp_with_codecs_by_name("PCMU,GSM")', 'KSR.sdpops.sdp_with_codecs_by_name("GSM")', 'KSR.sdpops.sdp_with_codecs_by_id("8,101")',
        'KSR.sdpops.sdp_with_transport("RTP/AVP")', 'KSR.sdpops.sdp_with_transport("RTP/SAVP")', 'KSR.sdpops.sdp_with_transport_like("AVP")', 'KSR.sdpops.sdp_with_ice()',
        'KSR.sdpops.sdp_content()', 'KSR.sdpops.sdp_content_flags(1)', 'KSR.textops.is_audio_on_hold()'),
      FORWARD),
    request: INVITE,
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'X-Rc': '1,0,1,0,1,2,0,1,1,0,1,-1,1,1,-1' } } },
  },
  {
    name: 'sdp_get, sdp_get_line_startswith and sdp_transport store into pseudo-variables; sdp_print logs',
    ...script(
      'local a = KSR.sdpops.sdp_get("$var(sdp)")',
      'local b = KSR.sdpops.sdp_get_line_startswith("$var(m)", "m=video")',
      'local c = KSR.sdpops.sdp_transport("$var(t)")',
      'local d = KSR.sdpops.sdp_get_line_startswith("$var(x)", "a=nothing")',
      'local e = KSR.sdpops.sdp_print(3)',
      rcLine('a', 'b', 'c', 'd', 'e', 'KSR.pv.get("$var(m)")', 'KSR.pv.get("$var(t)")', 'KSR.textops.cmp_str(KSR.pv.get("$var(sdp)"), KSR.pv.get("$rb"))'),
      FORWARD),
    request: INVITE,
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'X-Rc': `1,1,1,-1,1,m=video 0 RTP/AVP 96,RTP/AVP,1` } } },
  },
  {
    name: 'the script reads the received SDP until msg_apply_changes (then rtpengine would see the edited one too)',
    ...script(
      'local a = KSR.sdpops.remove_codecs_by_name("PCMA", "")',
      'local before = KSR.textops.search_body("PCMA")',
      'local r = KSR.textopsx.msg_apply_changes()',
      rcLine('a', 'before', 'r', 'KSR.textops.search_body("PCMA")', 'KSR.sdpops.sdp_with_codecs_by_name("PCMA")', 'KSR.sdpops.remove_codecs_by_id("0", "")'),
      FORWARD),
    request: INVITE,
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'X-Rc': '0,1,1,-1,0,0' }, check: (req) => { assert.deepEqual(sdpLines(req.bodyText, 'm='), ['m=audio 4000 RTP/AVP 18 101', 'm=video 0 RTP/AVP 96']); } } },
  },
  {
    name: 'is_audio_on_hold: 2 for a sendonly audio stream',
    ...script(rcLine('KSR.textops.is_audio_on_hold()'), FORWARD),
    request: HOLD,
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'X-Rc': '2' } } },
  },
  {
    name: 'a message without SDP: the tests and edits answer -1, sdp_get -2',
    ...script(
      rcLine('KSR.sdpops.sdp_with_media("audio")', 'KSR.sdpops.remove_codecs_by_name("PCMA", "")', 'KSR.sdpops.sdp_content()', 'KSR.sdpops.sdp_get("$var(s)")', 'KSR.textops.is_audio_on_hold()'),
      FORWARD),
    request: { method: 'MESSAGE', ruri: 'sip:bob@127.0.0.1:{next}' },
    next: NEXT,
    expect: { status: 200, forwarded: { headers: { 'X-Rc': '-1,-1,-1,-2,-1' } } },
  },
];

runBindingCases('KSR.sdpops', cases);
