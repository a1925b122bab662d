/**
 * usrloc's control RPC under Kamailio's names, with the result shapes Kamailio's jsonrpcs gives
 * (ul.dump's Domains → Domain → AoRs → Info → Contacts → Contact, the same keys and "[not set]"
 * placeholders), so tools written for `kamcmd ul.dump` read ours. Faults carry Kamailio's codes
 * and messages; missing or malformed parameters are JSON-RPC's INVALID_PARAMS.
 */
import { INVALID_PARAMS, RpcError } from '../rpc/jsonrpc.js';
import { aorHash, type UlContact } from './contact.js';
import type { LocationTable } from './location-table.js';
import { nowSeconds, type UsrlocStore } from './store.js';

/** Kamailio's usrloc hash table: 2^hash_size slots (hash_size 10), shown in ul.dump. */
const HASH_SLOTS = 1024;
const NOT_SET = '[not set]';

const STATE: Readonly<Record<UlContact['state'], string>> = { new: 'CS_NEW', sync: 'CS_SYNC', dirty: 'CS_DIRTY' };

/** One contact as Kamailio's rpc_dump_contact shows it. */
export function contactView(c: UlContact, now: number): Record<string, unknown> {
  return {
    Address: c.contact,
    Expires: c.expires === 0 ? 'permanent' : c.expires <= now ? 'expired' : c.expires - now,
    Q: c.q === -1 ? -1 : c.q / 1000,
    'Call-ID': c.callid,
    CSeq: c.cseq,
    'User-Agent': c.userAgent === '' ? NOT_SET : c.userAgent,
    Received: c.received ?? NOT_SET,
    Path: c.path ?? NOT_SET,
    State: STATE[c.state],
    Flags: c.flags,
    CFlags: c.cflags,
    Socket: c.socket ?? NOT_SET,
    Methods: c.methods,
    Ruid: c.ruid === '' ? NOT_SET : c.ruid,
    Instance: c.instance ?? NOT_SET,
    'Reg-Id': c.regId,
    'Server-Id': c.serverId,
    'Tcpconn-Id': c.connectionId,
    Keepalive: c.keepalive,
    'Last-Keepalive': c.lastModified,
    'KA-Roundtrip': 0,
    'Last-Modified': c.lastModified,
  };
}

function str(params: readonly unknown[], i: number, need: string): string {
  const v = params[i];
  if (typeof v !== 'string' || v === '') throw new RpcError(INVALID_PARAMS, `Not enough parameters (${need})`);
  return v;
}

function tableOf(store: UsrlocStore, name: string): LocationTable {
  const t = store.table(name);
  if (t === null) throw new RpcError(500, 'Domain table not found');
  return t;
}

/** Kamailio's rpc_fix_aor: user@domain with use_domain, else the user part; lowercased. */
function fixAor(store: UsrlocStore, aor: string): string {
  const at = aor.indexOf('@');
  if (store.useDomain) {
    if (at < 0) throw new RpcError(500, 'Domain missing in AOR');
    return aor.toLowerCase();
  }
  return (at < 0 ? aor : aor.slice(0, at)).toLowerCase();
}

function dump(store: UsrlocStore, params: readonly unknown[]): unknown {
  const brief = params[0] === 'brief';
  const now = nowSeconds();
  const domains = store.tableNames().map((name) => {
    const t = tableOf(store, name);
    const records = store.records(t);
    const slots = new Map<number, number>();
    const aors = records.map((r) => {
      const hash = aorHash(r.aor);
      const slot = hash & (HASH_SLOTS - 1);
      slots.set(slot, (slots.get(slot) ?? 0) + 1);
      if (brief) return { AoR: r.aor };
      return { Info: { AoR: r.aor, HashID: hash, Contacts: r.contacts.map((c) => ({ Contact: contactView(c, now) })) } };
    });
    const maxSlots = Math.max(0, ...slots.values());
    return { Domain: { Domain: name, Size: HASH_SLOTS, AoRs: aors, Stats: { Records: records.length, 'Max-Slots': maxSlots } } };
  });
  return { Domains: domains };
}

function lookup(store: UsrlocStore, params: readonly unknown[]): unknown {
  const t = tableOf(store, str(params, 0, 'table and AOR to lookup'));
  const aor = fixAor(store, str(params, 1, 'table and AOR to lookup'));
  const r = store.record(t, aor);
  if (r === undefined) throw new RpcError(500, 'AOR not found in location table');
  const now = nowSeconds();
  const contacts = r.contacts.filter((c) => c.valid(now)).map((c) => ({ Contact: contactView(c, now) }));
  if (contacts.length === 0) throw new RpcError(500, 'AOR has no contacts');
  return { AoR: aor, Contacts: contacts };
}

function rm(store: UsrlocStore, params: readonly unknown[]): unknown {
  const t = tableOf(store, str(params, 0, 'table and AOR to lookup'));
  store.removeRecord(t, fixAor(store, str(params, 1, 'table and AOR to lookup')));
  return {};
}

function rmContact(store: UsrlocStore, params: readonly unknown[]): unknown {
  const t = tableOf(store, str(params, 0, 'table, AOR and contact'));
  const aor = fixAor(store, str(params, 1, 'table, AOR and contact'));
  const contact = str(params, 2, 'table, AOR and contact');
  const r = store.record(t, aor);
  if (r === undefined) throw new RpcError(404, 'AOR not found');
  const c = r.contacts.find((x) => x.contact === contact);
  if (c === undefined) throw new RpcError(404, 'Contact not found');
  store.remove(t, c);
  return {};
}

export function usrlocRpc(): Record<string, { doc: string; run: (store: UsrlocStore, params: readonly unknown[]) => unknown }> {
  return {
    'ul.dump': { doc: 'Dump the location tables ("brief": the AoRs only)', run: dump },
    'ul.lookup': { doc: 'Look up one AoR in a location table: table, AoR', run: lookup },
    'ul.rm': { doc: 'Delete an AoR with its contacts: table, AoR', run: rm },
    'ul.rm_contact': { doc: 'Delete one contact of an AoR: table, AoR, contact', run: rmContact },
    'ul.flush': {
      doc: 'Write what is pending to the database now (db_mode 2); resolves when the writes are done',
      run: async (store) => {
        await store.flush();
        return {};
      },
    },
  };
}
