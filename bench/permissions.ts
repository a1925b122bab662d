/**
 * The permissions address table and the pike tree, in memory (what a script call costs):
 *
 *   permissions_load_<n>_rows_sqlite   reading n rows from an SQLite address table and building the table, ms
 *   permissions_<kind>_lookups_<n>     lookups/s with n rows (half exact addresses, half subnets of
 *                                      8 prefix lengths), the source text parsed each time as
 *                                      allow_source_address does: exact (a hit in the exact table),
 *                                      subnet (a hit among the subnets), miss (neither)
 *   pike_checks_one_source             pike_check_req from one (blocked) address, checks/s
 *   pike_checks_spoofed                from a new random address each time, tree bounded at 100k nodes, checks/s
 *   pike_bytes_per_node                heap per tree node, bytes
 *
 *   node --no-node-snapshot --import tsx bench/permissions.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { openDatabase } from '../host/db/database.js';
import { ensureSchema } from '../host/db/ensure-schema.js';
import { ADDRESS_TABLE } from '../host/db/schema/permissions.js';
import { sourceIp } from '../host/net/kamailio-ip.js';
import { AddressStore, DEFAULT_COLUMNS, readAddressRows } from '../host/permissions/address-store.js';
import { AddressTable, type AddressRow } from '../host/permissions/address-table.js';
import { PikeTree } from '../host/pike/ip-tree.js';

function out(name: string, value: number, unit: string): void {
  process.stdout.write(`${name} ${value < 10 ? value.toFixed(2) : String(Math.round(value))} ${unit}\n`);
}

const PREFIXES = [8, 12, 16, 20, 22, 24, 26, 28];

/** n rows: even ones exact addresses in 10/8, odd ones subnets in 172.16/12 and up, in 100 groups */
function rows(n: number): AddressRow[] {
  const list: AddressRow[] = [];
  for (let i = 0; i < n; i++) {
    const grp = 1 + (i % 100);
    if (i % 2 === 0) list.push({ grp, ip: `10.${String((i >> 16) & 255)}.${String((i >> 8) & 255)}.${String(i & 255)}`, mask: 32, port: 0, tag: `t${String(i)}` });
    else list.push({ grp, ip: `${String(100 + (i % 100))}.${String((i >> 8) & 255)}.${String(i & 255)}.0`, mask: PREFIXES[i % PREFIXES.length] ?? 24, port: 0, tag: null });
  }
  return list;
}

function lookupsPerS(table: AddressTable, texts: readonly string[]): number {
  const ms = 400;
  let n = 0;
  let hits = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let k = 0; k < 1000; k++) {
      const ip = sourceIp(texts[(n + k) % texts.length] ?? '');
      if (ip !== null && table.matchIp(ip, 5060, null) !== null) hits++;
    }
    n += 1000;
  }
  if (hits < 0) process.stderr.write('');
  return (n / ms) * 1000;
}

async function loadFromSqlite(n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'kemihost-bench-perm-'));
  try {
    const db = await openDatabase(`sqlite://${join(dir, 'a.db')}`, pino({ level: 'silent' }));
    await ensureSchema(db, [ADDRESS_TABLE]);
    await db.exec('BEGIN');
    for (const r of rows(n)) await db.exec('INSERT INTO address (grp, ip_addr, mask, port, tag) VALUES (?, ?, ?, ?, ?)', [r.grp as number, r.ip as string, r.mask as number, 0, r.tag as string | null]);
    await db.exec('COMMIT');
    const store = new AddressStore({ read: () => readAddressRows(db, DEFAULT_COLUMNS), maxSubnets: n, reloadDeltaS: 0 });
    const t0 = performance.now();
    await store.load();
    const ms = performance.now() - t0;
    await db.close();
    return ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const n of [100, 10_000]) {
  const list = rows(n);
  const table = new AddressTable(list, n);
  const exact = list.filter((_, i) => i % 2 === 0).map((r) => r.ip as string);
  const subnet = list.filter((_, i) => i % 2 === 1).map((r) => (r.ip as string).replace(/\.0$/, '.1'));
  const miss = Array.from({ length: 1000 }, (_, i) => `192.0.${String(i & 255)}.${String((i * 7) & 255)}`);
  out(`permissions_exact_lookups_${String(n)}`, lookupsPerS(table, exact), 'lookups/s');
  out(`permissions_subnet_lookups_${String(n)}`, lookupsPerS(table, subnet), 'lookups/s');
  out(`permissions_miss_lookups_${String(n)}`, lookupsPerS(table, miss), 'lookups/s');
}
out('permissions_load_10000_rows_sqlite', await loadFromSqlite(10_000), 'ms');

{
  const tree = new PikeTree({ density: 30, removeLatencyMs: 120_000, maxNodes: 100_000 });
  const ip = Uint8Array.of(198, 51, 100, 7);
  const t0 = performance.now();
  for (let i = 0; i < 2_000_000; i++) tree.check(ip, i);
  out('pike_checks_one_source', 2_000_000 / ((performance.now() - t0) / 1000), 'checks/s');
}
{
  const tree = new PikeTree({ density: 30, removeLatencyMs: 120_000, maxNodes: 100_000 });
  let s = 1;
  const t0 = performance.now();
  for (let i = 0; i < 1_000_000; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    tree.check(Uint8Array.of(s >>> 24, (s >>> 16) & 255, (s >>> 8) & 255, s & 255), i);
  }
  out('pike_checks_spoofed', 1_000_000 / ((performance.now() - t0) / 1000), 'checks/s');
}
{
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  const tree = new PikeTree({ density: 0, removeLatencyMs: 120_000, maxNodes: 1_000_000 });
  for (let i = 0; i < 200_000; i++) tree.check(Uint8Array.of(10, (i >>> 16) & 255, (i >>> 8) & 255, i & 255), i);
  gc();
  out('pike_bytes_per_node', (process.memoryUsage().heapUsed - before) / tree.nodes, 'bytes');
}
