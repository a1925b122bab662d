/**
 * The location store (Kamailio's usrloc): tables of AoR → contacts in memory, the expiry timer,
 * and the `location` table in the database as db_mode says (docs/registrar.md):
 *
 *   0  memory only
 *   1  write-through: every change is queued to the table at once (db-writer.ts)
 *   2  write-back: changes are marked and flushed every timer_interval, and at close
 *   3  DB only. SQLite: each call reads the AoR's rows and writes its changes synchronously
 *      (`db.sync`), so the table is the only truth and other processes see each change at
 *      once. MySQL/PostgreSQL cannot be read synchronously: writes go at once (as 1) and the
 *      whole table is re-read every db_only_refresh s, so another server's registration shows
 *      up here within that long; what this server changed itself is never undone by a re-read.
 *   4  read at start, then memory only
 *
 * Script calls are answered from memory and never wait for the database.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from '../db/database.js';
import { checkSchema, ensureSchema } from '../db/ensure-schema.js';
import { LOCATION_TABLE } from '../db/schema/location.js';
import type { Counter } from '../kemi/stats.js';
import type { ModuleHost } from '../kemi/types.js';
import { UlContact, type ContactInfo } from './contact.js';
import { dbTime } from './db-rows.js';
import { loadAorSync, loadTable, loadTableSync } from './db-load.js';
import { DbWriter } from './db-writer.js';
import { LocationTable } from './location-table.js';
import { preloadList, type UsrlocParams } from './params.js';
import type { ContactRecord, MatchOptions } from './record.js';

export const USRLOC_STATS = ['registered_users', 'registered_contacts', 'expires', 'db_writes', 'db_write_errors', 'db_writes_dropped', 'db_writes_pending', 'db_read_errors'];

/** Unix seconds now (usrloc's act_time). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export class UsrlocStore {
  readonly useDomain: boolean;
  /** the NAT branch flag as a mask (0: none) */
  readonly natFlag: number;
  readonly match: MatchOptions;
  readonly dbMode: number;
  private readonly tables = new Map<string, LocationTable>();
  private db: Database | null = null;
  private writer: DbWriter | null = null;
  /** db_mode 2: ruids removed from memory whose row the next flush deletes, by table */
  private readonly toDelete = new Map<string, Set<string>>();
  /** db_mode 3 on a server: ruid → change number, so a re-read keeps what changed meanwhile */
  private readonly touched = new Map<string, number>();
  private changeSeq = 0;
  private timers: NodeJS.Timeout[] = [];
  private readonly ruidPrefix = `uloc-${nowSeconds().toString(16)}-${randomBytes(4).toString('hex')}`;
  private ruidSeq = 0;
  private readonly users: Counter;
  private readonly contacts: Counter;
  private readonly expired: Counter;
  private readonly readErrors: Counter;
  private closed = false;

  constructor(
    private readonly host: ModuleHost,
    readonly params: UsrlocParams,
  ) {
    this.useDomain = params.use_domain === 1;
    this.natFlag = params.nat_bflag < 0 ? 0 : 1 << params.nat_bflag;
    this.match = { mode: params.matching_mode, cseqDelay: params.cseq_delay };
    this.dbMode = params.db_mode;
    for (const name of preloadList(params)) this.tables.set(name, new LocationTable(name, params.desc_time_order === 1));
    this.users = host.gauge('registered_users');
    this.contacts = host.gauge('registered_contacts');
    this.expired = host.stat('expires');
    this.readErrors = host.stat('db_read_errors');
  }

  /** Open the database and load the tables (db_mode 1-4), then start the timers. */
  async start(): Promise<void> {
    const mode = this.dbMode;
    if (mode > 0) {
      const db = await this.host.database();
      this.db = db;
      for (const name of this.tables.keys()) {
        const def = { ...LOCATION_TABLE, name };
        if (db.dialect === 'sqlite') await ensureSchema(db, [def]);
        else await checkSchema(db, [def]);
      }
      // db_load applies to modes 1 and 2; 3 and 4 always read the table
      if (mode >= 3 || this.params.db_load === 1) await this.loadAll();
      if (mode <= 3) {
        const h = this.host;
        this.writer = new DbWriter(db, this.useDomain, this.params.max_pending, {
          writes: h.stat('db_writes'), errors: h.stat('db_write_errors'), dropped: h.stat('db_writes_dropped'), pending: h.gauge('db_writes_pending'),
        }, h.log, h.boundary, mode === 3 ? db.sync : null);
      }
    }
    const b = this.host.boundary;
    this.timers.push(b.interval('module-timer', this.params.timer_interval * 1000, () => { this.onTimer(); }));
    if (mode === 3 && this.db !== null && this.db.sync === null) {
      this.timers.push(b.interval('module-timer', this.params.db_only_refresh * 1000, () => { this.refresh(); }));
    }
  }

  /** Stop the timers; db_mode 2 flushes what is left; wait for queued writes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.dbMode === 2) this.flushBack();
    await this.writer?.drained();
  }

  /** the table, or null when it is not one of `preload` (the script's call then returns -1) */
  table(name: string): LocationTable | null {
    return this.tables.get(name) ?? null;
  }

  tableNames(): string[] {
    return [...this.tables.keys()];
  }

  /** The record of an AoR as it is now (db_mode 3 on SQLite: read from the table first). */
  record(t: LocationTable, aor: string): ContactRecord | undefined {
    const sync = this.syncDb();
    if (sync !== null) this.guard(() => { t.setRecord(aor, loadAorSync(sync, t.name, aor, this.useDomain, nowSeconds())); });
    return t.get(aor);
  }

  /** Every record of a table as it is now (ul.dump; db_mode 3 on SQLite reads the table). */
  records(t: LocationTable): ContactRecord[] {
    const sync = this.syncDb();
    if (sync !== null) this.guard(() => { this.replaceAll(t, loadTableSync(sync, t.name, this.useDomain, nowSeconds())); });
    return [...t.all()];
  }

  newRuid(): string {
    return `${this.ruidPrefix}-${String(++this.ruidSeq)}`;
  }

  insert(t: LocationTable, aor: string, uri: string, info: ContactInfo): UlContact {
    const c = new UlContact(aor, uri, this.newRuid(), info);
    t.add(c);
    this.persist(t, c);
    this.recount();
    return c;
  }

  update(t: LocationTable, c: UlContact, info: ContactInfo): void {
    c.update(info);
    t.get(c.aor)?.reposition(c);
    this.persist(t, c);
  }

  remove(t: LocationTable, c: UlContact): void {
    if (!t.remove(c)) return;
    this.unpersist(t, c);
    this.recount();
  }

  /** Remove an AoR with all its contacts; how many there were. */
  removeRecord(t: LocationTable, aor: string): number {
    this.record(t, aor);
    const gone = t.removeRecord(aor);
    for (const c of gone) this.unpersist(t, c);
    this.recount();
    return gone.length;
  }

  /** ul.flush: db_mode 2 writes what is pending now; resolves when the writes are done. */
  async flush(): Promise<void> {
    if (this.dbMode === 2) this.flushBack();
    await this.writer?.drained();
  }

  /** Queued location writes finished (tests, ul.flush). */
  drained(): Promise<void> {
    return this.writer?.drained() ?? Promise.resolve();
  }

  // ---- the database side of each change ----

  private persist(t: LocationTable, c: UlContact): void {
    const w = this.writer;
    this.touch(c.ruid);
    if (w === null || this.dbMode === 2 || c.memoryOnly) return;
    if (c.state === 'new') w.insert(t.name, c);
    else w.update(t.name, c);
    c.state = 'sync';
  }

  private unpersist(t: LocationTable, c: UlContact): void {
    this.touch(c.ruid);
    if (this.writer === null || c.state === 'new' || c.memoryOnly) return;
    if (this.dbMode === 2) {
      let set = this.toDelete.get(t.name);
      if (set === undefined) this.toDelete.set(t.name, (set = new Set()));
      set.add(c.ruid);
      return;
    }
    this.writer.delete(t.name, c.ruid);
  }

  /** db_mode 2: insert the new, update the changed, delete the removed. */
  private flushBack(): void {
    const w = this.writer;
    if (w === null) return;
    for (const t of this.tables.values()) {
      for (const ruid of this.toDelete.get(t.name) ?? []) w.delete(t.name, ruid);
      this.toDelete.delete(t.name);
      for (const c of t.allContacts()) {
        if (c.memoryOnly || c.state === 'sync') continue;
        if (c.state === 'new') w.insert(t.name, c);
        else w.update(t.name, c);
        c.state = 'sync';
      }
    }
  }

  private touch(ruid: string): void {
    if (this.dbMode === 3 && this.syncDb() === null) this.touched.set(ruid, ++this.changeSeq);
  }

  /**
   * A synchronous read or delete (db_mode 3 on SQLite) that failed — the file locked by another
   * process past query_timeout_ms — is logged and counted; the call goes on from memory.
   */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.readErrors.value++;
      this.host.complain('usrloc: reading the location table failed; answering from memory', { err: e instanceof Error ? e.message : String(e) }, 'warn');
    }
  }

  private syncDb(): Database['sync'] {
    return this.dbMode === 3 ? (this.db?.sync ?? null) : null;
  }

  // ---- timers, loading ----

  /** Every timer_interval: remove what expired (memory and table), flush db_mode 2. */
  private onTimer(): void {
    const now = nowSeconds();
    for (const t of this.tables.values()) {
      const gone = t.expire(now);
      this.expired.value += gone.length;
      for (const c of gone) this.unpersist(t, c);
      if (this.dbMode === 3 && this.db !== null) this.deleteExpiredRows(this.db, t.name, now);
    }
    if (this.dbMode === 2) this.flushBack();
    this.recount();
  }

  /** db_mode 3: rows other servers left to expire go too (permanent ones, at the epoch, stay). */
  private deleteExpiredRows(db: Database, table: string, now: number): void {
    const sql = `DELETE FROM ${table} WHERE "expires" < ? AND "expires" > ?`;
    const params = [dbTime(now, db.dialect), dbTime(0, db.dialect)];
    const sync = db.sync;
    if (sync !== null) {
      this.guard(() => { sync.exec(sql, params); });
      return;
    }
    this.host.boundary.then(db.exec(sql, params), 'module-promise', () => undefined, (e: unknown) => {
      this.host.log.warn({ err: e instanceof Error ? e.message : String(e), table }, 'usrloc: deleting expired rows failed');
    });
  }

  private async loadAll(): Promise<void> {
    const db = this.db;
    if (db === null) return;
    for (const t of this.tables.values()) {
      const { contacts, skipped } = await loadTable(db, t.name, this.useDomain, nowSeconds());
      if (skipped > 0) this.host.log.warn({ table: t.name, skipped }, 'usrloc: location rows without AoR, contact, ruid or expires were not loaded');
      this.replaceAll(t, contacts);
      this.host.log.info({ table: t.name, contacts: contacts.length, users: t.users }, 'usrloc: location table loaded');
    }
    this.recount();
  }

  /** db_mode 3 on a server: read the tables again; local changes made meanwhile win. */
  private refresh(): void {
    const db = this.db;
    if (db === null || this.closed) return;
    const since = this.changeSeq;
    for (const t of this.tables.values()) {
      this.host.boundary.then(loadTable(db, t.name, this.useDomain, nowSeconds()), 'module-promise', ({ contacts }) => {
        if (this.closed) return;
        this.mergeRefresh(t, contacts, since);
      }, (e: unknown) => {
        this.readErrors.value++;
        this.host.log.warn({ table: t.name, err: e instanceof Error ? e.message : String(e) }, 'usrloc: db_only_refresh failed; the copy in memory stays');
      });
    }
  }

  private mergeRefresh(t: LocationTable, rows: UlContact[], since: number): void {
    const changed = (ruid: string): boolean => (this.touched.get(ruid) ?? 0) > since || this.writer?.pendingRuids().has(ruid) === true;
    const keep = t.allContacts().filter((c) => changed(c.ruid));
    const next = rows.filter((c) => !changed(c.ruid));
    this.replaceAll(t, [...next, ...keep]);
    for (const [ruid, seq] of this.touched) if (seq <= since) this.touched.delete(ruid);
    this.recount();
  }

  private replaceAll(t: LocationTable, contacts: readonly UlContact[]): void {
    t.clear();
    for (const c of contacts) t.add(c);
  }

  private recount(): void {
    let users = 0;
    let contacts = 0;
    for (const t of this.tables.values()) {
      users += t.users;
      contacts += t.contacts;
    }
    this.users.value = users;
    this.contacts.value = contacts;
  }
}
