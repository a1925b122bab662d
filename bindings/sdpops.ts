/**
 * KSR.sdpops: SDP tests and edits (Kamailio src/modules/sdpops). Return codes are those of
 * Kamailio 5.6's KEMI exports, which are the C functions' own: the removals answer 0 when done
 * and the sdp_with_* tests 0 when not found (write `> 0` in a script), -1 when the message has
 * no SDP. Edits change the body sent on (bindings/sdpops-sdp.ts).
 */
import type { Context } from '../host/kemi/context.js';
import { defineModule, fn, type ModuleHost } from '../host/kemi/types.js';
import { codecNames, direction, idsByName, listItems, withoutPayloads, type SdpBody, type SdpMedia } from '../host/sdp/sdp-lines.js';
import { text } from '../host/textops/patterns.js';
import { sdpOf, writeSdp } from './sdpops-sdp.js';
import { mediaType, multipartParts } from './textops-body.js';

interface SdpopsState {
  readonly host: ModuleHost;
}

function forMedia(media: string): (m: SdpMedia) => boolean {
  const want = media.toLowerCase();
  return (m) => want === '' || m.media.toLowerCase() === want;
}

/** Apply `edit` to every stream of the media type; -1 without an editable SDP, else 0 (Kamailio's result). */
function editStreams(s: SdpopsState, ctx: Context, media: string, edit: (m: SdpMedia) => SdpMedia): number {
  const v = sdpOf(ctx);
  if (v === null) return -1;
  if (!v.editable) {
    s.host.complain('the SDP part of a multipart body is not edited here', {}, 'warn');
    return -1;
  }
  const match = forMedia(media);
  writeSdp(ctx, { session: v.sdp.session, media: v.sdp.media.map((m) => (match(m) ? edit(m) : m)) });
  return 0;
}

function removeIds(s: SdpopsState, ctx: Context, ids: (m: SdpMedia) => Set<string>, media: string): number {
  return editStreams(s, ctx, media, (m) => withoutPayloads(m, ids(m)));
}

function keepIds(s: SdpopsState, ctx: Context, keep: (m: SdpMedia) => Set<string>, media: string): number {
  return editStreams(s, ctx, media, (m) => {
    const k = keep(m);
    return withoutPayloads(m, new Set(m.payloads.filter((p) => !k.has(p))));
  });
}

/** Set a pseudo-variable named by the script ("$avp(sdp)"); false (and a complaint) when it cannot be. */
function setPv(s: SdpopsState, ctx: Context, name: string, value: string): boolean {
  const pv = s.host.pvs.resolve(name);
  if (pv?.set === undefined) {
    s.host.complain('not a writable pseudo-variable', { pv: name });
    return false;
  }
  pv.set(ctx, value);
  return true;
}

function lines(sdp: SdpBody): string[] {
  return [...sdp.session, ...sdp.media.flatMap((m) => m.lines)].map((l) => l.text);
}

function sdpText(sdp: SdpBody): string {
  return [...sdp.session, ...sdp.media.flatMap((m) => m.lines)].map((l) => l.text + l.eol).join('');
}

/** sdp_content_flags(1): Content-Type application/sdp, or a multipart body naming it, without parsing the SDP. */
function sloppyContent(ctx: Context): boolean {
  const msg = ctx.msg;
  if (msg === null || msg.body.length === 0) return false;
  const type = mediaType(msg.getHeader('content-type'));
  if (type === 'application/sdp') return true;
  return type.startsWith('multipart/') && (multipartParts(ctx)?.parts.some((p) => p.ctype === 'application/sdp') ?? false);
}

export default defineModule({
  name: 'sdpops',
  doc: 'SDP tests and edits: codecs, media streams, lines (Kamailio sdpops).',
  init: (host): SdpopsState => ({ host }),
  functions: {
    remove_codecs_by_name: fn(['str', 'str'], 'int', (s: SdpopsState, ctx, codecs, media) => removeIds(s, ctx, (m) => idsByName(m, listItems(codecs)), media),
      'Remove the codecs named in the comma-separated list (from the streams of media type `media`, "" for all) with their rtpmap/fmtp/rtcp-fb lines; 0 done, -1 no SDP.'),
    remove_codecs_by_id: fn(['str', 'str'], 'int', (s: SdpopsState, ctx, ids, media) => removeIds(s, ctx, () => new Set(listItems(ids)), media),
      'Remove the payload types in the comma-separated list; 0 done, -1 no SDP.'),
    keep_codecs_by_name: fn(['str', 'str'], 'int', (s: SdpopsState, ctx, codecs, media) => keepIds(s, ctx, (m) => idsByName(m, listItems(codecs)), media),
      'Keep only the codecs named in the list (telephone-event too only when listed); 0 done, -1 no SDP.'),
    keep_codecs_by_id: fn(['str', 'str'], 'int', (s: SdpopsState, ctx, ids, media) => keepIds(s, ctx, () => new Set(listItems(ids)), media),
      'Keep only the payload types in the list; 0 done, -1 no SDP.'),
    remove_line_by_prefix: fn(['str', 'str'], 'int', (s: SdpopsState, ctx, prefix, media) => {
      const v = sdpOf(ctx);
      if (v === null || prefix === '') return -1;
      if (!v.editable) return -1;
      let n = 0;
      const keep = (l: { text: string }): boolean => {
        if (!l.text.startsWith(prefix)) return true;
        n++;
        return false;
      };
      const match = forMedia(media);
      const session = media === '' ? v.sdp.session.filter(keep) : v.sdp.session;
      const streams = v.sdp.media.map((m) => (match(m) ? { ...m, lines: [m.lines[0] ?? { text: '', eol: '' }, ...m.lines.slice(1).filter(keep)] } : m));
      if (n > 0) writeSdp(ctx, { session, media: streams });
      return n;
    }, 'Remove the SDP lines that start with the prefix (in the streams of media type `media`, "" for the whole SDP); the number removed, -1 no SDP.'),
    remove_media: fn(['str'], 'int', (s: SdpopsState, ctx, media) => {
      const v = sdpOf(ctx);
      if (v === null || !v.editable) return -1;
      const match = forMedia(media);
      const kept = v.sdp.media.filter((m) => !match(m));
      const n = v.sdp.media.length - kept.length;
      if (n > 0) writeSdp(ctx, { session: v.sdp.session, media: kept });
      return n;
    }, 'Remove the streams of that media type (m=type); the number removed, -1 no SDP.'),
    sdp_content: fn([], 'int', (_s, ctx) => (sdpOf(ctx) === null ? -1 : 1), '1 when the message has an SDP body or SDP part, -1 otherwise.'),
    sdp_content_flags: fn(['int'], 'int', (_s, ctx, flags) => ((flags & 1) !== 0 ? (sloppyContent(ctx) ? 1 : -1) : sdpOf(ctx) === null ? -1 : 1),
      'sdp_content; flag 1: decide on Content-Type (or a multipart part\'s) without parsing the SDP.'),
    sdp_with_ice: fn([], 'int', (_s, ctx) => {
      const v = sdpOf(ctx);
      if (v === null) return -1;
      return lines(v.sdp).some((l) => l.startsWith('a=candidate')) ? 1 : -1;
    }, '1 when the SDP has ICE candidate attributes, -1 otherwise.'),
    sdp_with_media: fn(['str'], 'int', (_s, ctx, media) => {
      const v = sdpOf(ctx);
      if (v === null) return -1;
      return v.sdp.media.some((m) => m.media.toLowerCase() === media.toLowerCase()) ? 1 : 0;
    }, '1 when the SDP has a stream of that media type, 0 when not, -1 no SDP.'),
    sdp_with_active_media: fn(['str'], 'int', (_s, ctx, media) => {
      const v = sdpOf(ctx);
      if (v === null) return -1;
      return v.sdp.media.some((m) => m.media.toLowerCase() === media.toLowerCase() && Number(m.port) !== 0 && direction(v.sdp, m) !== 'inactive') ? 1 : 0;
    }, '1 when the SDP has a stream of that type with a non-zero port that is not inactive, 0 when not, -1 no SDP.'),
    sdp_with_transport: fn(['str'], 'int', (_s, ctx, t) => {
      const v = sdpOf(ctx);
      if (v === null) return -1;
      return v.sdp.media.some((m) => m.transport === t) ? 1 : 0;
    }, '1 when a stream uses exactly this transport (RTP/AVP, UDP/TLS/RTP/SAVPF…), 0 when not, -1 no SDP.'),
    sdp_with_transport_like: fn(['str'], 'int', (_s, ctx, t) => {
      const v = sdpOf(ctx);
      if (v === null) return -1;
      return v.sdp.media.some((m) => m.transport.includes(t)) ? 1 : 0;
    }, '1 when a stream\'s transport contains this text, 0 when not, -1 no SDP.'),
    sdp_with_codecs_by_id: fn(['str'], 'int', (_s, ctx, ids) => {
      const v = sdpOf(ctx);
      if (v === null) return -1;
      const want = listItems(ids);
      const have = new Set(v.sdp.media.flatMap((m) => m.payloads));
      const found = want.filter((w) => have.has(w)).length;
      return found === 0 ? 0 : found === want.length ? 1 : 2;
    }, '1 when every payload type listed is in the SDP, 2 when some are, 0 when none, -1 no SDP.'),
    sdp_with_codecs_by_name: fn(['str'], 'int', (_s, ctx, codecs) => {
      const v = sdpOf(ctx);
      if (v === null) return -1;
      const want = listItems(codecs).map((c) => c.toLowerCase());
      const have = new Set(v.sdp.media.flatMap((m) => [...codecNames(m).values()].map((n) => n.toLowerCase())));
      const found = want.filter((w) => have.has(w)).length;
      return found === 0 ? 0 : found === want.length ? 1 : 2;
    }, '1 when every codec listed is in the SDP, 2 when some are, 0 when none, -1 no SDP.'),
    sdp_get: fn(['str'], 'int', (s: SdpopsState, ctx, pv) => {
      const v = sdpOf(ctx);
      if (v === null) return -2;
      return setPv(s, ctx, pv, text(sdpText(v.sdp))) ? 1 : -1;
    }, 'Store the SDP in the pseudo-variable named ("$avp(sdp)"); 1 done, -2 no SDP, -1 error.'),
    sdp_get_line_startswith: fn(['str', 'str'], 'int', (s: SdpopsState, ctx, pv, prefix) => {
      const v = sdpOf(ctx);
      if (v === null) return -2;
      const line = lines(v.sdp).find((l) => l.startsWith(prefix));
      if (line === undefined) return -1;
      return setPv(s, ctx, pv, text(line)) ? 1 : -1;
    }, 'Store the first SDP line starting with the prefix in the pseudo-variable named; 1 found, -1 not found or error, -2 no SDP.'),
    sdp_transport: fn(['str'], 'int', (s: SdpopsState, ctx, pv) => {
      const v = sdpOf(ctx);
      if (v === null || v.sdp.media.length === 0) return -1;
      const first = v.sdp.media[0]?.transport ?? '';
      if (!v.sdp.media.every((m) => m.transport === first)) return -2;
      return setPv(s, ctx, pv, first) ? 1 : -1;
    }, 'Store the transport every stream shares in the pseudo-variable named; 1 done, -2 none in common, -1 error.'),
    sdp_print: fn(['int'], 'int', (s: SdpopsState, ctx, level) => {
      const v = sdpOf(ctx);
      if (v === null) return -1;
      const streams = v.sdp.media.map((m) => ({ media: m.media, port: m.port, transport: m.transport, payloads: m.payloads.join(' '), direction: direction(v.sdp, m) }));
      const fields = { streams };
      if (level <= 0) s.host.log.error(fields, 'sdp_print');
      else if (level === 1) s.host.log.warn(fields, 'sdp_print');
      else if (level <= 3) s.host.log.info(fields, 'sdp_print');
      else s.host.log.debug(fields, 'sdp_print');
      return 1;
    }, 'Log the SDP\'s streams at a Kamailio log level (L_ERR -1/0, L_WARN 1, L_NOTICE/L_INFO 2-3, else debug); 1 done, -1 no SDP.'),
  },
});
