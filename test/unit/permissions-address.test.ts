/** The address table in memory (host/permissions) and Kamailio's IP text parsers (host/net). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipText, sourceIp, str2ip, str2ip6, strtoipx } from '../../host/net/kamailio-ip.js';
import { parseAddressFile } from '../../host/permissions/address-file.js';
import { AddressRowError, AddressTable, type AddressRow } from '../../host/permissions/address-table.js';

const row = (grp: unknown, ip: unknown, mask: unknown = 32, port: unknown = 0, tag: unknown = null): AddressRow => ({ grp, ip, mask, port, tag });
const ip = (s: string): NonNullable<ReturnType<typeof strtoipx>> => {
  const r = strtoipx(s);
  assert.ok(r !== null, s);
  return r;
};

describe('Kamailio IP text', () => {
  it('str2ip: digits and three dots; octets wrap; empty octets are 0', () => {
    assert.equal(ipText(str2ip('10.0.0.1') ?? ip('0.0.0.0')), '10.0.0.1');
    assert.equal(ipText(str2ip('1.2.3.300') ?? ip('0.0.0.0')), '1.2.3.44');
    assert.equal(ipText(str2ip('1..2.') ?? ip('9.9.9.9')), '1.0.2.0');
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '1.2.3.4 ', 'a.b.c.d']) assert.equal(str2ip(bad), null, bad);
  });

  it('str2ip6: groups, one "::", brackets; no embedded IPv4', () => {
    const text = (s: string): string | null => {
      const r = str2ip6(s);
      return r === null ? null : ipText(r);
    };
    assert.equal(text('::1'), '::1');
    assert.equal(text('[2001:DB8::1]'), '2001:db8::1');
    assert.equal(text('1:2:3:4:5:6:7:8'), '1:2:3:4:5:6:7:8');
    assert.equal(text('1::2:3'), '1::2:3');
    assert.equal(text('::'), '::');
    for (const bad of ['1:2:3', '1::2::3', '::ffff:1.2.3.4', '[::1', '1:2:3:4:5:6:7:8:9', '::1:2:3:4:5:6:7', 'g::1']) assert.equal(text(bad), null, bad);
  });

  it('strtoipx picks the family from the text; sourceIp takes Node\'s v4-mapped form as IPv4', () => {
    assert.equal(strtoipx('example.com'), null);
    assert.equal(ip('[::1]').v6, true);
    assert.deepEqual(sourceIp('::ffff:10.1.2.3'), str2ip('10.1.2.3'));
    assert.equal(sourceIp('::1')?.v6, true);
  });
});

describe('AddressTable', () => {
  const t = new AddressTable(
    [
      row(1, '10.0.0.1', 32, 0, 'exact-any-port'),
      row(1, '10.0.0.2', 32, 5060, 'exact-5060'),
      row(2, '10.0.0.1', 0, 0, 'group2-same-ip'),
      row(3, '192.168.0.0', 16, 0, 'g3-net'),
      row(2, '192.168.1.0', 24, 5070, 'g2-net-5070'),
      row(1, '2001:db8::', 32, 0, 'v6-net'),
      row(4, '2001:db8::5', 128, 0, null),
      row(5, 'sbc.example.com', 32, 0, 'dns'),
      row(6, 'sbc.example.com', 32, 5061, 'dns-6'),
    ],
    512,
  );

  it('exact address: in its group, any port when the row says 0', () => {
    assert.equal(t.matchIp(ip('10.0.0.1'), 1234, 1)?.tag, 'exact-any-port');
    assert.equal(t.matchIp(ip('10.0.0.1'), 1234, 3), null);
    assert.equal(t.matchIp(ip('10.0.0.3'), 1234, 1), null);
  });

  it('a port other than 0 must be the port', () => {
    assert.equal(t.matchIp(ip('10.0.0.2'), 5060, 1)?.tag, 'exact-5060');
    assert.equal(t.matchIp(ip('10.0.0.2'), 5061, 1), null);
  });

  it('mask 0 means the whole address', () => {
    assert.equal(t.matchIp(ip('10.0.0.1'), 1, 2)?.tag, 'group2-same-ip');
    assert.equal(t.matchIp(ip('10.0.0.9'), 1, 2), null);
  });

  it('any group: an exact address answers the row loaded last (Kamailio adds in front)', () => {
    assert.equal(t.matchIp(ip('10.0.0.1'), 9, null)?.grp, 2);
  });

  it('subnets by prefix; the lowest group first when several match', () => {
    assert.equal(t.matchIp(ip('192.168.7.7'), 1, 3)?.tag, 'g3-net');
    assert.equal(t.matchIp(ip('192.168.1.7'), 5070, null)?.grp, 2);
    assert.equal(t.matchIp(ip('192.168.1.7'), 5071, null)?.grp, 3);
    assert.equal(t.matchIp(ip('192.169.0.1'), 1, null), null);
  });

  it('IPv6 exact and subnet; the families never meet', () => {
    assert.equal(t.matchIp(ip('2001:db8:ffff::1'), 1, 1)?.tag, 'v6-net');
    assert.equal(t.matchIp(ip('2001:db9::1'), 1, 1), null);
    assert.equal(t.matchIp(ip('2001:db8::5'), 1, 4)?.tag, null);
    assert.equal(t.matchIp(ip('::ffff:0:0'), 1, null), null);
  });

  it('DNS names as written, with their ports', () => {
    assert.equal(t.matchDomain('sbc.example.com', 1, 5)?.tag, 'dns');
    assert.equal(t.matchDomain('SBC.example.com', 1, 5), null);
    assert.equal(t.matchDomain('sbc.example.com', 5061, null)?.grp, 6);
  });

  it('dumps: exact rows, subnets sorted by group (address as written), names', () => {
    assert.equal(t.addressDump().length, 4);
    assert.deepEqual(t.subnetDump().map((s) => [s.group, s.item.ip, s.item.mask, s.item.tag]), [
      [1, '2001:db8::', 32, 'v6-net'],
      [2, '192.168.1.0', 24, 'g2-net-5070'],
      [3, '192.168.0.0', 16, 'g3-net'],
    ]);
    assert.deepEqual(t.domainDump().map((d) => d.item.domain_name), ['sbc.example.com', 'sbc.example.com']);
  });

  it('refuses what Kamailio refuses, naming the row', () => {
    const bad: [AddressRow, RegExp][] = [
      [row(0, '10.0.0.1'), /row 2 .*group/],
      [row(1, null), /row 2 .*address/],
      [row(1, '10.0.0.1', 33), /row 2 .*mask 33/],
      [row(1, '::1', 129), /row 2 .*mask 129/],
      [row(1, '10.0.0.1', null), /row 2 .*mask/],
      [row(1, '10.0.0.1', 32, null), /row 2 .*port/],
    ];
    for (const [r, re] of bad) assert.throws(() => new AddressTable([row(1, '1.1.1.1'), r], 512), (e: unknown) => e instanceof AddressRowError && re.test(e.message));
  });

  it('max_subnets: later subnets are left out and counted', () => {
    const small = new AddressTable([row(1, '10.0.0.0', 8), row(1, '11.0.0.0', 8), row(1, '12.0.0.0', 8), row(1, '12.0.0.1')], 2);
    assert.equal(small.droppedSubnets, 1);
    assert.equal(small.matchIp(ip('12.1.1.1'), 1, 1), null);
    assert.notEqual(small.matchIp(ip('11.1.1.1'), 1, 1), null);
    assert.notEqual(small.matchIp(ip('12.0.0.1'), 1, 1), null);
  });

  it('odd prefix lengths mask the right bits', () => {
    const odd = new AddressTable([row(1, '10.0.0.128', 25), row(1, '2001:db8::8000', 113)], 512);
    assert.notEqual(odd.matchIp(ip('10.0.0.200'), 1, 1), null);
    assert.equal(odd.matchIp(ip('10.0.0.127'), 1, 1), null);
    assert.notEqual(odd.matchIp(ip('2001:db8::ffff'), 1, 1), null);
    assert.equal(odd.matchIp(ip('2001:db8::7fff'), 1, 1), null);
  });
});

describe('address_file', () => {
  it('reads Kamailio\'s sample file', () => {
    const rows = parseAddressFile(['# comment', '1 127.0.0.1 32 0 tag1', '1 10.0.0.10', '', '2 192.168.1.0 24 0 tag2 # trailing', '3 [1:5ee::900d:c0de]', '4 10.0.0.0 8 5060'].join('\n'));
    assert.deepEqual(rows, [
      { grp: 1, ip: '127.0.0.1', mask: 32, port: 0, tag: 'tag1' },
      { grp: 1, ip: '10.0.0.10', mask: 0, port: 0, tag: null },
      { grp: 2, ip: '192.168.1.0', mask: 24, port: 0, tag: 'tag2' },
      { grp: 3, ip: '[1:5ee::900d:c0de]', mask: 0, port: 0, tag: null },
      { grp: 4, ip: '10.0.0.0', mask: 8, port: 5060, tag: null },
    ]);
    const t = new AddressTable(rows, 512);
    assert.notEqual(t.matchIp(ip('1:5ee::900d:c0de'), 5, 3), null);
  });

  it('a group without an address fails the whole file', () => {
    assert.throws(() => parseAddressFile('1 10.0.0.1\n2\n'), /line 2/);
  });
});
