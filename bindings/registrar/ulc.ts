/**
 * reg_fetch_contacts / reg_free_contacts and $ulc(profile=>attr): a copy of an AoR's contacts
 * kept under a profile name, read attribute by attribute ($(ulc(p=>addr)[1]) for the second
 * contact). As in Kamailio a profile lives until fetched again or freed — across messages — and
 * `expires` is the absolute expiry time, `q` the q × 1000.
 */
import type { PvDef, Xval } from '../../host/kemi/types.js';
import { aorHash, type UlContact } from '../../host/usrloc/contact.js';
import { extractAor } from './aor.js';
import { tableFor, type RegState } from './state.js';

/** Profiles kept at most: a script fetching under ever new names cannot grow memory without end. */
const MAX_PROFILES = 1000;

export function fetchContacts(s: RegState, tableName: string, uri: string, profile: string): number {
  const t = tableFor(s, 'reg_fetch_contacts', tableName);
  if (t === null || profile === '') return -1;
  s.profiles.delete(profile);
  const a = extractAor(uri, s.aorOptions);
  if ('error' in a) {
    s.host.complain('reg_fetch_contacts: cannot take an AoR from the URI', { uri });
    return -1;
  }
  const rec = t.store.record(t.table, a.aor);
  if (rec === undefined || rec.empty) return -1;
  if (s.profiles.size >= MAX_PROFILES) {
    s.host.complain('reg_fetch_contacts: too many $ulc profiles; free some with reg_free_contacts', { max: MAX_PROFILES });
    return -1;
  }
  s.profiles.set(profile, { aor: a.aor, table: tableName, aorHash: aorHash(a.aor), contacts: [...rec.contacts] });
  return 1;
}

export function freeContacts(s: RegState, profile: string): number {
  s.profiles.delete(profile);
  return 1;
}

function attr(c: UlContact, name: string): Xval {
  switch (name) {
    case 'addr': return c.contact;
    case 'path': return c.path ?? '';
    case 'received': return c.received ?? '';
    case 'expires': return c.expires;
    case 'callid': return c.callid;
    case 'q': return c.q;
    case 'cseq': return c.cseq;
    case 'flags': return c.flags;
    case 'cflags': return c.cflags;
    case 'user_agent': return c.userAgent;
    case 'socket': return c.socket;
    case 'modified': return c.lastModified;
    case 'methods': return c.methods;
    case 'ruid': return c.ruid;
    case 'regid': return c.regId;
    case 'instance': return c.instance;
    case 'conid': return c.socket !== null && !c.socket.startsWith('udp:') ? c.connectionId : null;
    case 'server_id': return c.serverId;
    default: return null;
  }
}

/** $ulc(profile=>attr), with an index appended as "[N]" by the PV registry. */
export const ulcPv: PvDef<RegState> = {
  param: true,
  index: true,
  doc: 'an attribute of the contacts reg_fetch_contacts put in a profile: $ulc(p=>aor|domain|aorhash|count|addr|path|received|expires|callid|q|cseq|flags|cflags|user_agent|socket|modified|methods|ruid|regid|instance|conid|server_id), $(ulc(p=>addr)[N]) for contact N',
  get: (s, _ctx, param) => {
    const m = /^(.*?)=>([a-z_]+)(?:\[\s*(-?\d+)\s*\])?$/.exec(param);
    if (m === null) return null;
    const p = s.profiles.get(m[1] ?? '');
    if (p === undefined || p.contacts.length === 0) return null;
    const name = m[2] ?? '';
    if (name === 'aor') return p.aor;
    if (name === 'domain') return p.table;
    if (name === 'aorhash') return p.aorHash;
    if (name === 'count') return p.contacts.length;
    const idx = Math.max(0, Number(m[3] ?? 0));
    const c = p.contacts[idx];
    return c === undefined ? null : attr(c, name);
  },
};
