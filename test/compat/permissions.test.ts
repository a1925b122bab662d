/**
 * permissions under Kamailio 5.6 and kemihost, on the same SQLite file (Kamailio through
 * db_sqlite): allow_source_address (the example script's "a source in group 1 skips auth"),
 * allow_source_address_group, allow_address and allow_address_group with exact rows, subnets,
 * ports, IPv6, DNS names, Kamailio's odd address forms, and the peer_tag_avp each one leaves.
 * Every request asks one thing; the reply carries the result and the tag.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openDatabase } from '../../host/db/database.js';
import { ensureSchema } from '../../host/db/ensure-schema.js';
import { ADDRESS_TABLE, TRUSTED_TABLE } from '../../host/db/schema/permissions.js';
import type { SipMessage } from '../../host/sip/message.js';
import { compatSuite, type CompatCase } from './harness/suite.js';
import { STANDARD_MASKS, type View } from './harness/view.js';

const dbFile = join(mkdtempSync(join(tmpdir(), 'kh-compat-perm-')), 'address.db');
{
  const db = await openDatabase(`sqlite://${dbFile}`, pino({ level: 'silent' }));
  // Kamailio also checks the trusted table (load_backends: all)
  await ensureSchema(db, [ADDRESS_TABLE, TRUSTED_TABLE]);
  const rows: [number, string, number, number, string | null][] = [
    [1, '127.0.0.1', 32, 0, 'local'],
    [2, '127.0.0.0', 8, 0, 'loopnet'],
    [3, '127.0.0.1', 32, 1, 'port-one'],
    [4, '::1', 128, 0, 'v6'],
    [5, '10.0.0.0', 8, 5060, 'ten'],
    [6, 'sbc.example.com', 32, 0, 'dns'],
    [7, '2001:db8::', 32, 0, null],
    [8, '10.1.0.0', 16, 0, 'ten-one'],
    [2, '10.0.0.1', 32, 0, 'exact-2'],
    [9, '10.0.0.1', 32, 0, 'exact-9'],
    [10, '1.2.3.300', 32, 0, 'wrapped'],
    [11, '10.2.0.0', 0, 0, 'mask-0'],
    [12, '[2001:db8::7]', 128, 5070, 'bracketed'],
  ];
  for (const r of rows) await db.exec('INSERT INTO address (grp, ip_addr, mask, port, tag) VALUES (?, ?, ?, ?, ?)', r);
  await db.close();
}

const LUA = `
local function add(name, v)
  KSR.hdr.append_to_reply(name .. ": " .. tostring(v) .. "\\r\\n")
end

function ksr_request_route()
  local test = KSR.pv.get("$hdr(X-Test)")
  local grp = tonumber(KSR.pv.get("$hdr(X-Grp)") or "0")
  local ip = KSR.pv.get("$hdr(X-Ip)") or ""
  local port = tonumber(KSR.pv.get("$hdr(X-Port)") or "0")
  if test == "src" then
    add("X-Result", KSR.permissions.allow_source_address(grp))
  elseif test == "srcgroup" then
    add("X-Result", KSR.permissions.allow_source_address_group())
  elseif test == "addr" then
    add("X-Result", KSR.permissions.allow_address(grp, ip, port))
  elseif test == "addrgroup" then
    add("X-Result", KSR.permissions.allow_address_group(ip, port))
  else
    -- kamailio-basic-kemi-lua.lua's ksr_route_auth(): a trusted source skips authentication
    if not KSR.is_REGISTER() and KSR.permissions.allow_source_address(grp) > 0 then
      KSR.sl.sl_send_reply(200, "Trusted")
      return
    end
    KSR.sl.sl_send_reply(407, "Proxy Authentication Required")
    return
  end
  add("X-Tag", KSR.pv.get("$avp(ptag)"))
  KSR.sl.sl_send_reply(200, "OK")
end
`;

const JS = `
function add(name, v) {
  KSR.hdr.append_to_reply(name + ": " + v + "\\r\\n");
}

function ksr_request_route() {
  var test = KSR.pv.get("$hdr(X-Test)");
  var grp = parseInt(KSR.pv.get("$hdr(X-Grp)") || "0", 10);
  var ip = KSR.pv.get("$hdr(X-Ip)") || "";
  var port = parseInt(KSR.pv.get("$hdr(X-Port)") || "0", 10);
  if (test == "src") add("X-Result", KSR.permissions.allow_source_address(grp));
  else if (test == "srcgroup") add("X-Result", KSR.permissions.allow_source_address_group());
  else if (test == "addr") add("X-Result", KSR.permissions.allow_address(grp, ip, port));
  else if (test == "addrgroup") add("X-Result", KSR.permissions.allow_address_group(ip, port));
  else {
    if (!KSR.is_REGISTER() && KSR.permissions.allow_source_address(grp) > 0) {
      KSR.sl.sl_send_reply(200, "Trusted");
      return;
    }
    KSR.sl.sl_send_reply(407, "Proxy Authentication Required");
    return;
  }
  add("X-Tag", KSR.pv.get("$avp(ptag)"));
  KSR.sl.sl_send_reply(200, "OK");
}
`;

const final = (m: SipMessage): boolean => !m.isRequest && m.status >= 200;

const RESULT: View = { headers: ['x-result', 'x-tag'], masks: STANDARD_MASKS };

/** [test, group, ip, port, method] per request, each answered before the next */
type Ask = readonly [test: string, grp?: number | undefined, ip?: string | undefined, port?: number | undefined, method?: string];

function asks(name: string, list: readonly Ask[]): CompatCase<'uac'> {
  return {
    name,
    async flow({ peers: { uac } }) {
      for (const [test, grp, ip, port, method] of list) {
        const headers = [`X-Test: ${test}`, ...(grp === undefined ? [] : [`X-Grp: ${String(grp)}`]), ...(ip === undefined ? [] : [`X-Ip: ${ip}`]), ...(port === undefined ? [] : [`X-Port: ${String(port)}`])];
        uac.request({ method: method ?? 'OPTIONS', ruri: 'sip:perm@127.0.0.1', headers });
        await uac.waitFor(final, `the reply to ${test} ${ip ?? ''}`);
      }
    },
    compare: { uac: RESULT },
  };
}

compatSuite({
  title: 'permissions: the address table',
  peers: ['uac'],
  // the example cfg's db_mode 1; Kamailio reads sqlite:///x as x relative to its working directory: four slashes reach /tmp from anywhere
  modules: { sl: {}, db_sqlite: {}, permissions: { db_url: `sqlite:///${dbFile}`, db_mode: 1, peer_tag_avp: '$avp(ptag)' } },
  script: () => ({ lua: LUA, js: JS }),
  cases: [
    asks('a source in group 1 skips authentication (the example script); one in no group, or a REGISTER, is challenged', [
      ['auth', 1], ['auth', 3], ['auth', 1, undefined, undefined, 'REGISTER'], ['auth', 12],
    ]),
    asks('allow_source_address: the exact row, a subnet, a row for another port, a group without it; the tag', [
      ['src', 1], ['src', 2], ['src', 3], ['src', 4], ['src', 99], ['src', 0], ['src', -1],
    ]),
    asks('allow_source_address_group: the exact row before the subnets', [['srcgroup']]),
    asks('allow_address: exact rows, subnets, ports, group 0 and negative ports', [
      ['addr', 5, '10.9.9.9', 5060], ['addr', 5, '10.9.9.9', 5061], ['addr', 5, '10.9.9.9', 0], ['addr', 8, '10.1.2.3', 9],
      ['addr', 2, '10.0.0.1', 1], ['addr', 9, '10.0.0.1', 1], ['addr', 11, '10.2.0.0', 1], ['addr', 11, '10.2.0.1', 1], ['addr', 1, '127.0.0.1', -1],
    ]),
    asks('allow_address: IPv6 with and without brackets, subnets, a port', [
      ['addr', 4, '::1', 5], ['addr', 4, '[::1]', 5], ['addr', 4, '0:0:0:0:0:0:0:1', 5], ['addr', 7, '2001:db8:ffff::1', 5], ['addr', 7, '2001:db9::1', 5],
      ['addr', 12, '2001:db8::7', 5070], ['addr', 12, '2001:db8::7', 5071], ['addr', 1, '::ffff:127.0.0.1', 0],
    ]),
    asks('allow_address: DNS names as written, and Kamailio\'s lenient IPv4 text', [
      ['addr', 6, 'sbc.example.com', 1], ['addr', 6, 'SBC.example.com', 1], ['addr', 6, 'sbc.example.com.', 1],
      ['addr', 10, '1.2.3.44', 0], ['addr', 10, '1.2.3.300', 0], ['addr', 1, '127.0.0.1.', 0], ['addr', 1, '', 0],
    ]),
    asks('allow_address_group: lowest group among subnets, last loaded among exact rows, DNS names without a tag', [
      ['addrgroup', undefined, '10.1.2.3', 5060], ['addrgroup', undefined, '10.1.2.3', 1], ['addrgroup', undefined, '10.0.0.1', 0],
      ['addrgroup', undefined, 'sbc.example.com', 7], ['addrgroup', undefined, '192.0.2.1', 0], ['addrgroup', undefined, '2001:db8::1', 0],
    ]),
  ],
});
