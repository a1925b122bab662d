/**
 * One location table in memory (Kamailio's udomain_t): AoR → its record of contacts. The
 * registrar reaches it through UsrlocStore, which decides what the database sees.
 */
import type { UlContact } from './contact.js';
import { ContactRecord } from './record.js';

export class LocationTable {
  private readonly records = new Map<string, ContactRecord>();
  private contactCount = 0;

  constructor(
    /** the table (and usrloc domain) name: `location` */
    readonly name: string,
    private readonly descTimeOrder: boolean,
  ) {}

  get(aor: string): ContactRecord | undefined {
    return this.records.get(aor);
  }

  /** The record of `aor`, made when it has none. */
  ensure(aor: string): ContactRecord {
    let r = this.records.get(aor);
    if (r === undefined) {
      r = new ContactRecord(aor, this.descTimeOrder);
      this.records.set(aor, r);
    }
    return r;
  }

  add(c: UlContact): void {
    this.ensure(c.aor).insert(c);
    this.contactCount++;
  }

  /** Remove one contact; its record goes when it was the last. */
  remove(c: UlContact): boolean {
    const r = this.records.get(c.aor);
    if (r === undefined || !r.remove(c)) return false;
    this.contactCount--;
    if (r.empty) this.records.delete(c.aor);
    return true;
  }

  /** Remove a whole record; its contacts, or [] when there was none. */
  removeRecord(aor: string): UlContact[] {
    const r = this.records.get(aor);
    if (r === undefined) return [];
    this.records.delete(aor);
    this.contactCount -= r.contacts.length;
    return r.contacts;
  }

  /** Replace a record with these contacts (db_mode 3 reads it again); none removes it. */
  setRecord(aor: string, contacts: readonly UlContact[]): void {
    this.removeRecord(aor);
    for (const c of contacts) this.add(c);
  }

  /** Contacts not valid at `now`, removed from memory and returned (the expiry timer). */
  expire(now: number): UlContact[] {
    const gone: UlContact[] = [];
    for (const r of [...this.records.values()]) {
      for (const c of [...r.contacts]) {
        if (!c.valid(now)) {
          this.remove(c);
          gone.push(c);
        }
      }
    }
    return gone;
  }

  /** Drop everything (a reload builds the table again). */
  clear(): void {
    this.records.clear();
    this.contactCount = 0;
  }

  get users(): number {
    return this.records.size;
  }

  get contacts(): number {
    return this.contactCount;
  }

  all(): IterableIterator<ContactRecord> {
    return this.records.values();
  }

  allContacts(): UlContact[] {
    const out: UlContact[] = [];
    for (const r of this.records.values()) out.push(...r.contacts);
    return out;
  }
}
