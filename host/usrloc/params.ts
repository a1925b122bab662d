/**
 * usrloc's parameters under Kamailio's names (modules.usrloc in the config file), plus the two
 * that say how a remote database is kept without blocking (docs/registrar.md).
 */
import { z } from 'zod';
import { moduleDbUrlParam } from '../db/config.js';

const flag = z.number().int().min(0).max(1);
const tableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { message: 'expected a table name (letters, digits, _)' });

export const usrlocParams = z
  .object({
    db_url: moduleDbUrlParam,
    db_mode: z.number().int().min(0).max(4).default(0)
      .describe('0: memory only; 1: write-through (every change queued to the location table at once); 2: write-back (changes flushed every timer_interval, and at shutdown); 3: DB only (SQLite: every call reads and writes the table synchronously; MySQL/PostgreSQL: writes go at once, and a copy in memory is re-read every db_only_refresh s); 4: load at start, then memory only. 1-4 load the table at start (docs/registrar.md)'),
    db_load: flag.default(1).describe('db_mode 1 and 2: load the location table at start (0: start empty)'),
    preload: z.union([tableName, z.array(tableName).min(1).max(8)]).default('location')
      .describe('the location tables (usrloc domains) save/lookup may name, one or a list; each is loaded at start with db_mode 1-4. A table not listed: the call returns -1, as in Kamailio. Default: location (Kamailio has none; its example config preloads location)'),
    use_domain: flag.default(0).describe('1: the AoR is user@domain (multi-domain); 0: the user part only'),
    matching_mode: z.number().int().min(0).max(3).default(0)
      .describe('how a REGISTER\'s Contact finds the stored one: 0 contact URI; 1 contact URI and Call-ID; 2 contact URI and Path; 3 Call-ID only'),
    cseq_delay: z.number().int().min(0).default(20)
      .describe('seconds within which a REGISTER with the same Call-ID and CSeq as the stored contact is taken as a retransmission (answered, nothing changed); after it, 400'),
    timer_interval: z.number().int().min(1).max(86_400).default(60)
      .describe('seconds between two runs of the timer that removes expired contacts (from memory and, db_mode 1-3, from the table) and flushes db_mode 2'),
    nat_bflag: z.number().int().min(-1).max(31).default(-1)
      .describe('the branch flag that marks a contact as NATed (kept in its cflags; lookup restores it); -1: none'),
    desc_time_order: flag.default(0).describe('1: a record\'s contacts newest first instead of by q'),
    max_pending: z.number().int().min(1).max(1_000_000).default(10_000)
      .describe('kemihost: location writes queued at most; a write beyond is dropped and counted (usrloc:db_writes_dropped), memory keeps the change'),
    db_only_refresh: z.number().int().min(1).max(3600).default(5)
      .describe('kemihost, db_mode 3 on MySQL/PostgreSQL: seconds between two reads of the whole table into memory, where other servers\' registrations show up (the staleness bound)'),
  })
  .strict();

export type UsrlocParams = z.infer<typeof usrlocParams>;

/** The preload param as a list. */
export function preloadList(p: UsrlocParams): string[] {
  return typeof p.preload === 'string' ? [p.preload] : [...p.preload];
}
