/**
 * save(): a REGISTER's Contacts into the location table and the reply, after Kamailio's
 * registrar save.c. Return codes: 1 contacts inserted, 2 updated, 3 deleted (the last change
 * made decides, as in Kamailio), 4 contacts returned (no Contact in the REGISTER), -1 error,
 * -2 too many contacts (max_contacts: 503). Flags: 0x01 memory only (never written to the
 * table), 0x02 no reply (reg_send_reply sends it later), 0x04 one contact per AoR (the others
 * are removed), 0x08 no expires variation, 0x10 with 0x02: the reply headers are added now.
 *
 * RFC 3261 §10.3 step 7: a Contact already bound with the same Call-ID and a CSeq not above the
 * stored one is refused (400 Invalid CSeq number); the same CSeq within usrloc's cseq_delay is a
 * retransmission, answered without a change.
 */
import type { Context } from '../../host/kemi/context.js';
import type { UlContact } from '../../host/usrloc/contact.js';
import type { LocationTable } from '../../host/usrloc/location-table.js';
import type { ContactRecord } from '../../host/usrloc/record.js';
import { nowSeconds, type UsrlocStore } from '../../host/usrloc/store.js';
import { extractAor } from './aor.js';
import { contactExpires, contactInfo, readRegister, type RegRequest, type SaveContext } from './register-msg.js';
import { buildReply, contactHeader, RegError, type Rerrno } from './reply.js';
import { tableFor, type RegState } from './state.js';

const NO_REPLY = 0x02;
const MEM_ONLY = 0x01;
const ONE_CONTACT = 0x04;
const NO_VARIATION = 0x08;
const PREPARE_REPLY = 0x10;

interface Run {
  readonly s: RegState;
  readonly store: UsrlocStore;
  readonly table: LocationTable;
  readonly sc: SaveContext;
  readonly aor: string;
  readonly noVariation: boolean;
}

export function save(s: RegState, ctx: Context, tableName: string, flags: number, uri: string | null): number {
  const t = tableFor(s, 'save', tableName);
  const msg = ctx.msg;
  if (t === null || msg === null) return -1;
  const now = nowSeconds();
  let rerrno: Rerrno = 'FINE';
  let contacts = '';
  let extra: string[] = [];
  let ret = -1;
  try {
    const req = readRegister(msg, s.p);
    const a = extractAor(uri ?? msg.to.uri, s.aorOptions);
    if ('error' in a) throw new RegError(a.error);
    const sc: SaveContext = {
      ctx, req, now,
      memOnly: (flags & MEM_ONLY) !== 0,
      qOverride: s.qOverride.get(ctx) ?? null,
      receivedAvp: receivedAvp(s, ctx),
      natFlag: t.store.natFlag,
    };
    const run: Run = { s, store: t.store, table: t.table, sc, aor: a.aor, noVariation: (flags & NO_VARIATION) !== 0 };
    const rec = t.store.record(t.table, a.aor);
    try {
      if (req.contacts.length === 0) {
        if (req.star) {
          t.store.removeRecord(t.table, a.aor);
          ret = 3;
        } else {
          ret = 4;
        }
      } else if (rec === undefined) {
        ret = insertContacts(run);
      } else {
        const rc = updateContacts(run, rec, (flags & ONE_CONTACT) !== 0);
        ret = rc === 0 ? 1 : rc;
      }
    } finally {
      contacts = contactHeader(t.table.get(a.aor)?.contacts ?? [], now, s.p.received_param);
    }
    const path = pathReply(s, ctx, req);
    extra = path.lines;
    // Kamailio decides this when it replies: the contacts are saved, the reply is 420
    if (path.unsupported) rerrno = 'PATH_UNSUP';
  } catch (e) {
    if (!(e instanceof RegError)) throw e;
    rerrno = e.rerrno;
  }
  const reply = buildReply(rerrno, contacts, extra, {
    receivedParam: s.p.received_param, minExpires: s.p.min_expires, retryAfter: s.p.retry_after,
  });
  const ok = rerrno === 'FINE' || rerrno === 'PATH_UNSUP';
  (ok ? s.accepted : s.rejected).value++;
  if ((flags & NO_REPLY) === 0) {
    if (msg.isRequest) send(ctx, reply);
  } else if (ok && (flags & PREPARE_REPLY) !== 0) {
    ctx.replyHeaders.push(...reply.headers);
    s.pendingReply.set(ctx, { ...reply, headers: [] });
  } else {
    s.pendingReply.set(ctx, reply);
  }
  if (!ok) return rerrno === 'TOO_MANY' ? -2 : -1;
  return ret;
}

/** reg_send_reply: the reply a save() with flag 0x02 prepared; -1 when there is none. */
export function sendPendingReply(s: RegState, ctx: Context): number {
  const r = s.pendingReply.get(ctx);
  if (r === undefined || ctx.msg?.isRequest !== true) {
    s.host.complain('reg_send_reply: no reply prepared (call save() with flag 0x02 first)');
    return -1;
  }
  s.pendingReply.delete(ctx);
  return send(ctx, r) ? 1 : -1;
}

function send(ctx: Context, r: { code: number; reason: string; headers: readonly string[] }): boolean {
  ctx.replyHeaders.push(...r.headers);
  return ctx.owner?.reply(ctx, r.code, r.reason) ?? false;
}

function receivedAvp(s: RegState, ctx: Context): string | null {
  if (s.p.received_avp === '') return null;
  const v = s.host.pvs.resolve(s.p.received_avp)?.get(ctx) ?? null;
  return v === null || v === '' ? null : String(v);
}

/**
 * use_path: the reply's Path line when the UA said Supported: path (path_mode 1 and 2); in
 * path_mode 2 without it, Unsupported: path and a 420.
 */
function pathReply(s: RegState, ctx: Context, req: RegRequest): { lines: string[]; unsupported: boolean } {
  if (req.path === null || s.p.path_mode === 0) return { lines: [], unsupported: false };
  const supported = (ctx.msg?.getHeaderElements('supported') ?? []).some((x) => x.toLowerCase() === 'path');
  if (supported) return { lines: [`Path: ${req.path}\r\n`], unsupported: false };
  if (s.p.path_mode === 2) return { lines: ['Unsupported: path\r\n', `Path: ${req.path}\r\n`], unsupported: true };
  return { lines: [], unsupported: false };
}

/** A new AoR: insert every Contact with a non-zero expiry; on error nothing stays. */
function insertContacts(r: Run): number {
  const maxc = r.s.p.max_contacts;
  const made: UlContact[] = [];
  let num = 0;
  try {
    for (const c of r.sc.req.contacts) {
      const e = contactExpires(c, r.sc.req, r.s.p, r.noVariation, r.sc.now);
      if (e === 0) continue;
      if (maxc > 0 && num >= maxc) throw new RegError('TOO_MANY');
      num++;
      const info = contactInfo(c, e, r.sc, r.s.p);
      const rec = r.table.get(r.aor);
      // the same URI twice in one REGISTER: the second updates the first (Kamailio's cseq+1 trick)
      const m = rec?.find(c.uri, { ...info, cseq: info.cseq + 1 }, r.store.match, r.sc.now);
      if (m?.kind === 'found') r.store.update(r.table, m.contact, info);
      else made.push(r.store.insert(r.table, r.aor, c.uri, info));
    }
  } catch (e) {
    for (const c of made) r.store.remove(r.table, c);
    throw e;
  }
  return 1;
}

/** max_contacts: the valid contacts once this REGISTER is applied, refused when above it. */
function testMaxContacts(r: Run, rec: ContactRecord, maxc: number): void {
  let num = rec.contacts.filter((c) => c.valid(r.sc.now)).length;
  for (const c of r.sc.req.contacts) {
    const e = contactExpires(c, r.sc.req, r.s.p, r.noVariation, r.sc.now);
    const m = rec.find(c.uri, matchInfo(r, c.params), r.store.match, r.sc.now);
    if (m.kind === 'out-of-order') throw new RegError('INV_CSEQ');
    if (m.kind === 'retransmission') continue;
    if (m.kind === 'none') {
      if (e !== 0) num++;
    } else if (e === 0) {
      num--;
    }
  }
  if (num > maxc) throw new RegError('TOO_MANY');
}

function matchInfo(r: Run, params: ReadonlyMap<string, string>): { callid: string; cseq: number; path: string | null; instance: string | null; regId: number } {
  const instance = params.get('+sip.instance')?.replace(/^"|"$/g, '') ?? null;
  const rid = Number(params.get('reg-id') ?? 0);
  return { callid: r.sc.req.callid, cseq: r.sc.req.cseq, path: r.sc.req.path, instance: instance === '' ? null : instance, regId: instance === null ? 0 : rid };
}

/** An AoR with contacts: insert, update or delete per Contact; 0 when nothing changed. */
function updateContacts(r: Run, rec: ContactRecord, one: boolean): number {
  if (!one && r.s.p.max_contacts > 0) testMaxContacts(r, rec, r.s.p.max_contacts);
  let rc = 0;
  const dropOthers = (keep: UlContact): void => {
    for (const x of [...rec.contacts]) if (x !== keep) r.store.remove(r.table, x);
  };
  for (const c of r.sc.req.contacts) {
    const e = contactExpires(c, r.sc.req, r.s.p, r.noVariation, r.sc.now);
    const info = contactInfo(c, e, r.sc, r.s.p);
    const m = rec.find(c.uri, info, r.store.match, r.sc.now);
    if (m.kind === 'out-of-order') throw new RegError('INV_CSEQ');
    if (m.kind === 'retransmission') {
      if (e !== 0 && one) break;
      continue;
    }
    if (m.kind === 'none') {
      if (e === 0) continue;
      const made = r.store.insert(r.table, r.aor, c.uri, info);
      rc = 1;
      if (one) {
        dropOthers(made);
        break;
      }
      continue;
    }
    const found = m.contact;
    if (e === 0) {
      r.store.remove(r.table, found);
      rc = 3;
      continue;
    }
    if (one) dropOthers(found);
    // a new Call-ID for a +sip.instance: the instance's older bindings go
    if (info.instance !== null && info.callid !== found.callid) {
      for (const x of [...rec.contacts]) if (x !== found && x.instance !== null && x.instance === found.instance) r.store.remove(r.table, x);
    }
    r.store.update(r.table, found, info);
    rc = 2;
    if (one) break;
  }
  return rc;
}
