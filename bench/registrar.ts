/**
 * A REGISTER through KSR.registrar.save on each dialect and usrloc db_mode (a kemihost runtime
 * in this process, a UDP client on 127.0.0.1; servers' databases `kemihost_bench_<random>`,
 * created and dropped here; SQLite in a temp file):
 *
 *   registrar_register_<dialect>_mode<m>   REGISTER → 200, one at a time, median µs (a new AoR each)
 *   registrar_regs_per_s_<dialect>_mode<m> REGISTERs/s with 32 in flight
 *   registrar_rows_per_s_<dialect>_mode<m> rows in the location table per s, from the first
 *                                          REGISTER of that run to the last row landing
 *
 * db_mode 0 has no database (one line, "memory"). In db_mode 1 the 200 does not wait for the
 * row; in db_mode 3 on SQLite it does (a synchronous write); on a server db_mode 3 writes as 1.
 *
 *   node --no-node-snapshot --import tsx bench/registrar.ts [sqlite mysql postgres]
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { validateConfig } from '../host/config.js';
import { openDatabase } from '../host/db/database.js';
import { ensureSchema } from '../host/db/ensure-schema.js';
import { LOCATION_TABLE } from '../host/db/schema/index.js';
import type { Dialect } from '../host/db/url.js';
import { Runtime } from '../host/runtime.js';

const SEQUENTIAL = 1000;
const CONCURRENT = 2000;
const IN_FLIGHT = 32;
const log = pino({ level: 'silent' });
const ADMIN = {
  mysql: process.env.KEMIHOST_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
  postgres: process.env.KEMIHOST_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
};
const dir = mkdtempSync(join(tmpdir(), 'kh-bench-reg-'));
const script = join(dir, 'reg.lua');
writeFileSync(script, 'function ksr_request_route()\n  KSR.registrar.save("location", 0)\nend\n');

function out(name: string, value: number, unit: string): void {
  process.stdout.write(`${name} ${value < 10 ? value.toFixed(2) : String(Math.round(value))} ${unit}\n`);
}

/** A UDP client that matches 200s to REGISTERs by Call-ID. */
class Client {
  private readonly waiting = new Map<string, () => void>();
  private constructor(private readonly sock: dgram.Socket, private readonly port: number, private readonly to: number) {
    sock.on('message', (m) => {
      const id = /\r\nCall-ID: ([^\r]+)/i.exec(m.toString('latin1'))?.[1] ?? '';
      this.waiting.get(id)?.();
      this.waiting.delete(id);
    });
  }

  static async open(to: number): Promise<Client> {
    const sock = dgram.createSocket('udp4');
    sock.bind(0, '127.0.0.1');
    await once(sock, 'listening');
    return new Client(sock, sock.address().port, to);
  }

  register(user: string): Promise<void> {
    const id = `${user}@bench`;
    const done = new Promise<void>((resolve) => this.waiting.set(id, resolve));
    const msg = [
      'REGISTER sip:example.com SIP/2.0', `Via: SIP/2.0/UDP 127.0.0.1:${String(this.port)};branch=z9hG4bK${user}`, 'Max-Forwards: 70',
      `From: <sip:${user}@example.com>;tag=1`, `To: <sip:${user}@example.com>`, `Call-ID: ${id}`, 'CSeq: 1 REGISTER',
      `Contact: <sip:${user}@192.0.2.1:5060>`, 'Expires: 3600', 'Content-Length: 0', '', '',
    ].join('\r\n');
    this.sock.send(msg, this.to, '127.0.0.1');
    return done;
  }

  close(): void {
    this.sock.close();
  }
}

async function scratch(dialect: Dialect): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `kemihost_bench_${randomBytes(4).toString('hex')}`;
  if (dialect === 'sqlite') return { url: `sqlite://${join(dir, `${name}.db`)}`, drop: () => Promise.resolve() };
  const admin = await openDatabase(ADMIN[dialect], log, { poolSize: 1, connectTimeoutMs: 2000 });
  await admin.exec(`CREATE DATABASE ${name}`);
  return {
    url: ADMIN[dialect].replace(/\/[^/?]+(\?.*)?$/, `/${name}`),
    drop: async () => {
      await admin.exec(dialect === 'postgres' ? `DROP DATABASE IF EXISTS ${name} WITH (FORCE)` : `DROP DATABASE IF EXISTS ${name}`);
      await admin.close();
    },
  };
}

async function run(label: string, url: string | null, mode: number): Promise<void> {
  const config = validateConfig({
    listen: ['udp:127.0.0.1:0'], http: { listen: 'off' }, ...(url === null ? {} : { db_url: url }),
    modules: { usrloc: { db_mode: mode } },
  });
  const rt = await Runtime.start({ config, scriptPath: script, log });
  const print = label === 'warmup' ? (): void => undefined : out;
  const port = Number(rt.sipAddresses[0]?.split(':').pop());
  const client = await Client.open(port);
  const db = url === null ? null : await openDatabase(url, log);
  try {
    for (let i = 0; i < 200; i++) await client.register(`warm${String(i)}`);
    const us: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      const t0 = performance.now();
      await client.register(`seq${String(i)}`);
      us.push((performance.now() - t0) * 1000);
    }
    us.sort((a, b) => a - b);
    print(`registrar_register_${label}`, us[Math.floor(us.length / 2)] ?? NaN, 'us');
    const t1 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < CONCURRENT) await client.register(`par${String(next++)}`);
    }));
    print(`registrar_regs_per_s_${label}`, CONCURRENT / ((performance.now() - t1) / 1000), 'regs/s');
    if (db !== null) {
      const want = 200 + SEQUENTIAL + CONCURRENT;
      const deadline = Date.now() + 120_000;
      for (;;) {
        const [row] = await db.query<{ n: unknown }>('SELECT COUNT(*) AS "n" FROM location');
        if (Number(row?.n) >= want || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      print(`registrar_rows_per_s_${label}`, CONCURRENT / ((performance.now() - t1) / 1000), 'rows/s');
    }
  } finally {
    client.close();
    await db?.close();
    await rt.close();
  }
}

const wanted = process.argv.slice(2) as Dialect[];
try {
  // warm the JIT on a runtime of its own first: the first runtime of a process is slower
  await run('warmup', null, 0).catch(() => undefined);
  await run('memory_mode0', null, 0);
  for (const dialect of wanted.length > 0 ? wanted : (['sqlite', 'mysql', 'postgres'] as const)) {
    for (const mode of [1, 3]) {
      let drop: (() => Promise<void>) | null = null;
      try {
        const s = await scratch(dialect);
        drop = s.drop;
        if (dialect !== 'sqlite') {
          const db = await openDatabase(s.url, log);
          await ensureSchema(db, [LOCATION_TABLE]);
          await db.close();
        }
        await run(`${dialect}_mode${String(mode)}`, s.url, mode);
      } catch (e) {
        process.stderr.write(`# ${dialect} db_mode ${String(mode)}: left out: ${e instanceof Error ? e.message : String(e)}\n`);
      } finally {
        await drop?.();
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
