/**
 * uac's restore of From / To in the replies relayed upstream (Kamailio's restore_uris_reply on
 * TMCB_RESPONSE_IN): a request whose From or To the script replaced gets replies that carry the
 * header as the caller sent it, with the callee's parameters (its To-tag) kept.
 */
import type { SipMessage } from '../message.js';
import { restorePrefix } from '../name-addr-edit.js';
import type { HeaderEdits } from '../types.js';
import type { TmSettings } from './tm-settings.js';

function emptyEdits(): HeaderEdits {
  return { insert: [], append: [], remove: new Set(), maxForwards: null, recordRoute: null, dropRoutes: null, body: null };
}

/** The edits for relaying `reply`, with From / To restored when the settings ask for it. */
export function withRestoredUris(settings: TmSettings | null, reply: SipMessage, edits: HeaderEdits | null): HeaderEdits | null {
  const r = settings?.restore ?? null;
  if (r === null) return edits;
  const out: HeaderEdits = edits === null ? emptyEdits() : { ...edits, insert: [...edits.insert], append: [...edits.append], remove: new Set(edits.remove) };
  for (const [name, original] of [['from', r.from], ['to', r.to]] as const) {
    if (original === null) continue;
    const current = reply.getHeader(name);
    const restored = current === undefined ? null : restorePrefix(current, original);
    if (restored === null) continue;
    out.remove.add(name);
    out.append.push(`${name === 'from' ? 'From' : 'To'}: ${restored}\r\n`);
  }
  return out;
}
