/**
 * Kamailio's rtpengine flag string ("trust-address replace-origin ICE=remove RTP/AVP …") as the
 * NG dictionary entries Kamailio's rtpengine module makes of it (parse_flags in rtpengine.c):
 *
 * - `replace-X` / `replace=X`, `SDES-X`, `T38-X` / `T.38-X`, `rtcp-mux-X` → lists
 *   `replace`, `SDES`, `T.38`, `rtcp-mux`;
 * - `transcode-X` / `codec-transcode-X`, `codec-strip-X`, `codec-offer-X`, `codec-mask-X`,
 *   `codec-set-X`, `codec-except-X` → the `codec` dictionary's lists;
 * - `RTP`, `AVP`, `SRTP`, `AVPF`, `DTLS` and the full names (`RTP/AVP` … `UDP/TLS/RTP/SAVPF`)
 *   → `transport-protocol`;
 * - `internal`, `external`, `direction=X` → `direction`; `TOS=N`, `repacketize=N`,
 *   `delete-delay=N` → integers; `call-id=`, `from-tag=`, `to-tag[=]`, `via-branch=`,
 *   `directional`, `force-answer` change what is sent rather than being sent;
 * - anything else: `key=value` → a dictionary entry, a bare `key` → the `flags` list.
 */
import type { NgOp } from './ng-ops.js';

export type NgValue = string | number | readonly NgValue[] | { readonly [key: string]: NgValue };

export type CodecList = 'transcode' | 'strip' | 'offer' | 'mask' | 'set' | 'except';

/** via-branch=: 1, 2 (that Via of the message), auto, extra, next, auto-next, auto-extra */
export type ViaChoice = 0 | 1 | 2 | 'auto' | 'extra' | 'next' | 'auto-next' | 'auto-extra';

export interface NgFlags {
  /** entries added to the request as they are */
  readonly dict: Record<string, NgValue>;
  readonly flags: string[];
  readonly direction: string[];
  readonly replace: string[];
  readonly rtcpMux: string[];
  readonly sdes: string[];
  readonly t38: string[];
  readonly codec: Partial<Record<CodecList, string[]>>;
  /** Kamailio's transport bits: 0x100 set when a transport was named, low 3 bits the profile */
  transport: number;
  callId: string | null;
  fromTag: string | null;
  toTag: string | null;
  /** send the To-tag (on by default except for delete; `to-tag` turns it on) */
  to: boolean;
  directional: boolean;
  via: ViaChoice;
  op: NgOp;
}

const TRANSPORTS: Readonly<Record<number, string>> = {
  0: 'RTP/AVP', 1: 'RTP/SAVP', 2: 'RTP/AVPF', 3: 'RTP/SAVPF', 4: 'UDP/TLS/RTP/SAVP', 6: 'UDP/TLS/RTP/SAVPF',
};

/** the transport-protocol value, or null when none was named */
export function transportProtocol(bits: number): string | null {
  return (bits & 0x100) !== 0 ? (TRANSPORTS[bits & 0x7] ?? null) : null;
}

const CODEC_FLAGS: readonly (readonly [string, string | null, CodecList])[] = [
  ['transcode', 'codec-transcode', 'transcode'],
  ['codec-strip', null, 'strip'],
  ['codec-offer', null, 'offer'],
  ['codec-mask', null, 'mask'],
  ['codec-set', null, 'set'],
  ['codec-except', null, 'except'],
];

/** "foo-bar" or "foo=bar" → "bar" (Kamailio's str_key_val_prefix); null when key is not that */
function keyValPrefix(key: string, prefix: string, val: string | null): string | null {
  if (key === prefix) return val !== null && val !== '' ? val : null;
  if (!key.startsWith(prefix) || key.length - prefix.length < 2 || key[prefix.length] !== '-') return null;
  return key.slice(prefix.length + 1);
}

const VIA: Readonly<Record<string, ViaChoice>> = {
  auto: 'auto', extra: 'extra', next: 'next', 'auto-next': 'auto-next', 'next-auto': 'auto-next', 'auto-extra': 'auto-extra', 'extra-auto': 'auto-extra',
};

export class FlagError extends Error {}

/** Parse `flags` for `op`; throws FlagError with Kamailio's reason for a flag it refuses. */
export function parseNgFlags(flagsText: string, op: NgOp): NgFlags {
  const f: NgFlags = {
    dict: {}, flags: [], direction: [], replace: [], rtcpMux: [], sdes: [], t38: [], codec: {},
    transport: 0, callId: null, fromTag: null, toTag: null, to: op !== 'delete', directional: false, via: 0, op,
  };
  for (const item of flagsText.split(' ')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const val = eq < 0 ? null : item.slice(eq + 1);
    if (key === '') break; // Kamailio stops at an empty key ("=x")
    if (handled(f, key, val, item)) continue;
    if (val === null) f.flags.push(key);
    else f.dict[key] = val;
  }
  return f;
}

/** The items Kamailio treats specially; false sends the item on as a generic flag or entry. */
function handled(f: NgFlags, key: string, val: string | null, item: string): boolean {
  const bad = (why: string): never => { throw new FlagError(`flag "${item}": ${why}`); };
  const lists: readonly (readonly [string, string[]])[] = [['replace', f.replace], ['SDES', f.sdes], ['T38', f.t38], ['T.38', f.t38], ['rtcp-mux', f.rtcpMux]];
  for (const [prefix, list] of lists) {
    const v = keyValPrefix(key, prefix, val);
    if (v !== null) {
      list.push(v);
      return true;
    }
  }
  for (const [a, b, list] of CODEC_FLAGS) {
    const v = keyValPrefix(key, a, val) ?? (b === null ? null : keyValPrefix(key, b, val));
    if (v !== null) {
      (f.codec[list] ??= []).push(v);
      return true;
    }
  }
  const bare = val === null;
  switch (key) {
    case 'RTP': if (!bare) return false; f.transport = (f.transport | 0x100) & ~0x001; return true;
    case 'AVP': if (!bare) return false; f.transport = (f.transport | 0x100) & ~0x002; return true;
    case 'TOS': if (bare) return false; f.dict.TOS = atoi(val); return true;
    case 'SRTP': if (!bare) return false; f.transport |= 0x101; return true;
    case 'AVPF': if (!bare) return false; f.transport |= 0x102; return true;
    case 'DTLS': if (!bare) return false; f.transport |= 0x104; return true;
    case 'RTP/AVP': if (!bare) return false; f.transport = 0x100; return true;
    case 'RTP/AVPF': if (!bare) return false; f.transport = 0x102; return true;
    case 'RTP/SAVP': if (!bare) return false; f.transport = 0x101; return true;
    case 'RTP/SAVPF': if (!bare) return false; f.transport = 0x103; return true;
    case 'UDP/TLS/RTP/SAVP': if (!bare) return false; f.transport = 0x104; return true;
    case 'UDP/TLS/RTP/SAVPF': if (!bare) return false; f.transport = 0x106; return true;
    case 'to-tag':
      if (!bare) f.toTag = val;
      f.to = true;
      return true;
    case 'call-id':
      if (bare) bad('missing value');
      f.callId = val;
      return true;
    case 'internal':
    case 'external':
      f.direction.push(key);
      return true;
    case 'from-tag':
      if (bare) bad('missing value');
      f.fromTag = val;
      f.directional = true;
      return true;
    case 'direction':
      f.direction.push(val ?? '');
      return true;
    case 'via-branch': {
      if (bare) bad('missing value');
      const v = val as string;
      if (v.startsWith('1') || v.startsWith('2')) f.via = v.startsWith('1') ? 1 : 2;
      else f.via = VIA[v] ?? bad('invalid value');
      return true;
    }
    case 'repacketize': {
      if (bare) bad('missing value');
      const n = atoi(val);
      if (n <= 0) bad('invalid value');
      f.dict.repacketize = n;
      return true;
    }
    case 'directional':
      f.directional = true;
      return true;
    case 'force-answer':
      if (f.op !== 'offer') bad('cannot force answer in non-offer command');
      f.op = 'answer';
      return true;
    case 'delete-delay':
      // Kamailio adds the integer and then the item itself as a generic entry too
      if (!bare) f.dict['delete delay'] = atoi(val);
      return false;
    default:
      return false;
  }
}

/** C's atoi: leading digits (after an optional sign), 0 when none */
function atoi(s: string | null): number {
  const m = /^\s*([+-]?\d+)/.exec(s ?? '');
  return m === null ? 0 : Number.parseInt(m[1] as string, 10);
}
