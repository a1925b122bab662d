/**
 * Reading the location table into memory: the whole table at start (and, in db_mode 3 on a
 * server database, every db_only_refresh s), or one AoR's rows synchronously (db_mode 3 on
 * SQLite, at every call). Rows Kamailio wrote are read the same way as ours (db-rows.ts).
 */
import type { Database, Row, SyncQueryable } from '../db/database.js';
import { UlContact } from './contact.js';
import { COLUMNS, contactFromRow, quoted, splitAor } from './db-rows.js';

const SELECT = COLUMNS.map(quoted).join(', ');

function toContacts(rows: readonly Row[], useDomain: boolean, now: number): { contacts: UlContact[]; skipped: number } {
  const contacts: UlContact[] = [];
  let skipped = 0;
  for (const r of rows) {
    const parsed = contactFromRow(r, useDomain);
    if (parsed === null) {
      skipped++;
      continue;
    }
    // expired rows stay for the timer to delete; memory never holds them
    if (parsed.info.expires !== 0 && parsed.info.expires <= now) continue;
    const c = new UlContact(parsed.aor, parsed.contact, parsed.ruid, parsed.info);
    c.state = 'sync';
    contacts.push(c);
  }
  return { contacts, skipped };
}

/** Every valid contact of a table, and how many rows could not be read. */
export async function loadTable(db: Database, table: string, useDomain: boolean, now: number): Promise<{ contacts: UlContact[]; skipped: number }> {
  // ordered by id: contacts of equal q keep the order they were saved in
  const rows = await db.query(`SELECT ${SELECT} FROM ${table} ORDER BY "id"`);
  return toContacts(rows, useDomain, now);
}

/** The same, synchronously (SQLite). */
export function loadTableSync(db: SyncQueryable, table: string, useDomain: boolean, now: number): UlContact[] {
  return toContacts(db.query(`SELECT ${SELECT} FROM ${table} ORDER BY "id"`), useDomain, now).contacts;
}

/** The valid contacts of one AoR, synchronously (SQLite in db_mode 3). */
export function loadAorSync(db: SyncQueryable, table: string, aor: string, useDomain: boolean, now: number): UlContact[] {
  const { username, domain } = splitAor(aor, useDomain);
  const rows = useDomain
    ? db.query(`SELECT ${SELECT} FROM ${table} WHERE "username" = ? AND "domain" = ? ORDER BY "id"`, [username, domain])
    : db.query(`SELECT ${SELECT} FROM ${table} WHERE "username" = ? ORDER BY "id"`, [username]);
  return toContacts(rows, useDomain, now).contacts.filter((c) => c.aor === aor);
}
