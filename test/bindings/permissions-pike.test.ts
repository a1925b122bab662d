/**
 * KSR.permissions and KSR.pike through both engines over real SIP: the address table in an
 * SQLite file made here, requests from 127.0.0.1, 127.0.0.2 and ::1; pike's counts per source.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { openDatabase } from '../../host/db/database.js';
import { ensureSchema } from '../../host/db/ensure-schema.js';
import { ADDRESS_TABLE } from '../../host/db/schema/permissions.js';
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';
import { rpcResult } from '../helpers/rpc.js';
import { ENGINES, routeScript, startServer } from '../helpers/runtime.js';
import { UdpPeer } from '../helpers/sip-client.js';
import { until } from '../helpers/until.js';

const dir = mkdtempSync(join(tmpdir(), 'kemihost-perm-'));
after(() => { rmSync(dir, { recursive: true, force: true }); });
const dbFile = join(dir, 'address.db');
{
  const db = await openDatabase(`sqlite://${dbFile}`, pino({ level: 'silent' }));
  await ensureSchema(db, [ADDRESS_TABLE]);
  const rows: [number, string, number, number, string | null][] = [
    [1, '127.0.0.1', 32, 0, 'local'],
    [2, '127.0.0.0', 8, 0, 'loopnet'],
    [3, '127.0.0.1', 32, 1, 'port-one'],
    [4, '::1', 128, 0, 'v6'],
    [5, '10.0.0.0', 8, 5060, 'ten'],
    [6, 'sbc.example.com', 32, 0, 'dns'],
    [7, '2001:db8::', 32, 0, null],
  ];
  for (const r of rows) await db.exec('INSERT INTO address (grp, ip_addr, mask, port, tag) VALUES (?, ?, ?, ?, ?)', r);
  await db.close();
}
const addressFile = join(dir, 'address.list');
writeFileSync(addressFile, '# Kamailio\'s address file format\n1 127.0.0.2 32 0 from-file\n2 127.0.0.0 8\n');
const PERMISSIONS = { modules: { permissions: { db_url: `sqlite://${dbFile}`, peer_tag_avp: '$avp(ptag)' } } };

/** Each pair becomes a reply header "name: value" (a null as "null"), then 200. */
const show = (lang: 'lua' | 'js', pairs: readonly [string, string][]): string =>
  `${pairs
    .map(([h, e]) => (lang === 'lua' ? `KSR.hdr.append_to_reply("${h}: " .. tostring(${e}) .. "\\r\\n")` : `KSR.hdr.append_to_reply("${h}: " + String(${e}) + "\\r\\n");`))
    .join('\n')}\n${lang === 'lua' ? 'KSR.sl.sl_send_reply(200, "OK")' : 'KSR.sl.sl_send_reply(200, "OK");'}`;
const both = (pairs: readonly [string, string][]): { lua: string; js: string } => ({ lua: show('lua', pairs), js: show('js', pairs) });
const TAG = 'KSR.pv.get("$avp(ptag)")';

const cases: BindingCase[] = [
  {
    name: 'allow_source_address: the exact row, a port that is not the source\'s, a group without the address; the tag AVP',
    ...both([['X-Tag-Before', TAG], ['X-G1', 'KSR.permissions.allow_source_address(1)'], ['X-Tag', TAG], ['X-G3', 'KSR.permissions.allow_source_address(3)'],
      ['X-G9', 'KSR.permissions.allow_source_address(9)'], ['X-Group', 'KSR.permissions.allow_source_address_group()']]),
    config: PERMISSIONS,
    expect: { status: 200, headers: { 'X-Tag-Before': /^(nil|null)$/, 'X-G1': '1', 'X-Tag': 'local', 'X-G3': '-1', 'X-G9': '-1', 'X-Group': '1' } },
  },
  {
    name: 'allow_source_address: another source, matched by a subnet only',
    ...both([['X-G1', 'KSR.permissions.allow_source_address(1)'], ['X-G2', 'KSR.permissions.allow_source_address(2)'], ['X-Tag', TAG],
      ['X-Group', 'KSR.permissions.allow_source_address_group()']]),
    config: PERMISSIONS,
    from: '127.0.0.2',
    expect: { status: 200, headers: { 'X-G1': '-1', 'X-G2': '1', 'X-Tag': 'loopnet', 'X-Group': '2' } },
  },
  {
    name: 'allow_source_address: an IPv6 source',
    ...both([['X-G1', 'KSR.permissions.allow_source_address(1)'], ['X-G4', 'KSR.permissions.allow_source_address(4)'], ['X-Tag', TAG],
      ['X-Group', 'KSR.permissions.allow_source_address_group()']]),
    config: { ...PERMISSIONS, listen: ['udp:[::1]:0', 'tcp:127.0.0.1:0'] },
    from: '::1',
    expect: { status: 200, headers: { 'X-G1': '-1', 'X-G4': '1', 'X-Tag': 'v6', 'X-Group': '4' } },
  },
  {
    name: 'allow_address and allow_address_group: IPv6 text, ports, subnets, DNS names as written',
    ...both([
      ['X-V6', 'KSR.permissions.allow_address(4, "::1", 5)'], ['X-V6b', 'KSR.permissions.allow_address(4, "[::1]", 5)'],
      ['X-V6net', 'KSR.permissions.allow_address(7, "2001:db8:1::9", 5)'], ['X-Port', 'KSR.permissions.allow_address(5, "10.1.2.3", 5060)'],
      ['X-Port-Tag', TAG], ['X-Other-Port', 'KSR.permissions.allow_address(5, "10.1.2.3", 5061)'],
      ['X-Dns', 'KSR.permissions.allow_address(6, "sbc.example.com", 7)'], ['X-Dns-Case', 'KSR.permissions.allow_address(6, "SBC.example.com", 7)'],
      ['X-Grp-Net', 'KSR.permissions.allow_address_group("10.9.9.9", 5060)'], ['X-Grp-Dns', 'KSR.permissions.allow_address_group("sbc.example.com", 1)'],
      ['X-Grp-Dns-Tag', TAG], ['X-Grp-None', 'KSR.permissions.allow_address_group("192.0.2.1", 0)'],
    ]),
    config: PERMISSIONS,
    expect: {
      status: 200,
      headers: {
        'X-V6': '1', 'X-V6b': '1', 'X-V6net': '1', 'X-Port': '1', 'X-Port-Tag': 'ten', 'X-Other-Port': '-1', 'X-Dns': '1', 'X-Dns-Case': '-1',
        // Kamailio's group lookup among DNS names sets no tag: the one X-Grp-Net set stays on top
        'X-Grp-Net': '5', 'X-Grp-Dns': '6', 'X-Grp-Dns-Tag': 'ten', 'X-Grp-None': '-1',
      },
    },
  },
  {
    name: 'address_file instead of the table',
    ...both([['X-G1', 'KSR.permissions.allow_source_address(1)'], ['X-Tag', TAG], ['X-Group', 'KSR.permissions.allow_source_address_group()']]),
    config: { modules: { permissions: { address_file: addressFile, peer_tag_avp: '$avp(ptag)' } } },
    from: '127.0.0.2',
    expect: { status: 200, headers: { 'X-G1': '1', 'X-Tag': 'from-file', 'X-Group': '1' } },
  },
  {
    name: 'without a modules.permissions section nothing is loaded and every call answers -1',
    ...both([['X-G1', 'KSR.permissions.allow_source_address(1)'], ['X-Group', 'KSR.permissions.allow_source_address_group()'], ['X-A', 'KSR.permissions.allow_address(1, "127.0.0.1", 0)']]),
    expect: { status: 200, headers: { 'X-G1': '-1', 'X-Group': '-1', 'X-A': '-1' } },
  },
  {
    name: 'pike: a burst from one source is blocked once the density is passed (-2 once, then -1); other sources are not',
    lua: `local seq = {}
      for i = 1, 20 do seq[i] = KSR.pike.pike_check_req() end
      ${show('lua', [['X-Seq', 'table.concat(seq, ",")'], ['X-Other', 'KSR.pike.pike_check_ip("192.0.2.1")'], ['X-V6', 'KSR.pike.pike_check_ip("::1")'], ['X-Empty', 'KSR.pike.pike_check_ip("")']])}`,
    js: `var seq = [];
      for (var i = 0; i < 20; i++) seq.push(KSR.pike.pike_check_req());
      ${show('js', [['X-Seq', 'seq.join(",")'], ['X-Other', 'KSR.pike.pike_check_ip("192.0.2.1")'], ['X-V6', 'KSR.pike.pike_check_ip("::1")'], ['X-Empty', 'KSR.pike.pike_check_ip("")']])}`,
    config: { modules: { pike: { reqs_density_per_unit: 8, sampling_time_unit: 60 } } },
    expect: { status: 200, headers: { 'X-Seq': `${'1,'.repeat(11)}-2${',-1'.repeat(8)}`, 'X-Other': '1', 'X-V6': '-1', 'X-Empty': '-1' }, stats: { 'pike:blocked_ips': 1 } },
  },
];

runBindingCases('permissions and pike', cases);

/** Let go after a quiet sampling unit, forgotten after remove_latency: both awaited through pike.top. */
for (const engine of ENGINES) {
  describe(`pike over time [${engine}]`, () => {
    test('a blocked source is let go after a quiet unit, forgotten after remove_latency; another source is not blocked meanwhile', async () => {
      const body = engine === 'lua'
        ? 'KSR.hdr.append_to_reply("X-Pike: " .. KSR.pike.pike_check_req() .. "\\r\\n")\nKSR.sl.sl_send_reply(200, "OK")'
        : 'KSR.hdr.append_to_reply("X-Pike: " + KSR.pike.pike_check_req() + "\\r\\n");\nKSR.sl.sl_send_reply(200, "OK");';
      const server = await startServer(engine, routeScript(engine, body), {
        config: { rpc: { listen: '127.0.0.1:0' }, modules: { pike: { reqs_density_per_unit: 4, sampling_time_unit: 1, remove_latency: 3 } } },
      });
      const ask = async (from: string): Promise<string | undefined> => {
        const peer = await UdpPeer.open(from);
        try {
          peer.request({}, server.udpPort);
          return (await peer.next(3000))?.getHeader('X-Pike');
        } finally {
          peer.close();
        }
      };
      try {
        const codes: (string | undefined)[] = [];
        for (let i = 0; i < 12; i++) codes.push(await ask('127.0.0.1'));
        assert.ok(codes.includes('-2') && codes.at(-1) === '-1', codes.join(','));
        assert.equal(await ask('127.0.0.2'), '1');
        await until(async () => ((await rpcResult(server.rt, 'pike.top')) as { number_of_rows: number }).number_of_rows === 0, 6000, 'the address to cool down');
        assert.equal(await ask('127.0.0.1'), '1');
        const leaves = async (): Promise<number> => ((await rpcResult(server.rt, 'pike.top', ['ALL'])) as { number_of_rows: number }).number_of_rows;
        assert.equal(await leaves(), 1, 'the blocked source, until remove_latency after its last request');
        await until(async () => (await leaves()) === 0, 6000, 'the addresses to be removed');
      } finally {
        await server.close();
      }
    });
  });
}
