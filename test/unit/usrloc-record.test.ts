/**
 * usrloc's pieces without a server: the order of a record's contacts, what a REGISTER's Contact
 * matches under each matching_mode (and the CSeq rules), Kamailio's AoR hash, the q format,
 * and location rows in both date forms (Kamailio's db_sqlite Julian days, local DATETIMEs).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatQ, parseQ } from '../../host/sip/dset.js';
import { aorHash, UlContact, type ContactInfo } from '../../host/usrloc/contact.js';
import { contactFromRow, dbTime, fromDatetime, rowValues, COLUMNS } from '../../host/usrloc/db-rows.js';
import { CALLID_ONLY, CONTACT_CALLID, CONTACT_ONLY, CONTACT_PATH, ContactRecord } from '../../host/usrloc/record.js';

const NOW = 1_800_000_000;

function info(o: Partial<ContactInfo> = {}): ContactInfo {
  return {
    expires: NOW + 3600, q: -1, callid: 'c1', cseq: 1, flags: 0, cflags: 0, path: null, received: null, userAgent: 'ua',
    socket: 'udp:127.0.0.1:5060', methods: 0xffffffff, instance: null, regId: 0, serverId: 0, connectionId: -1, keepalive: 0,
    lastModified: NOW, ...o,
  };
}

let n = 0;
function contact(uri: string, o: Partial<ContactInfo> = {}): UlContact {
  return new UlContact('alice', uri, `r${String(++n)}`, info(o));
}

describe('usrloc record', () => {
  test('order: higher q first, equal q in saving order, unspecified last; desc_time_order: newest first', () => {
    const r = new ContactRecord('alice', false);
    for (const [uri, q] of [['a', -1], ['b', 500], ['c', 900], ['d', 500], ['e', -1]] as const) r.insert(contact(uri, { q }));
    assert.deepEqual(r.contacts.map((c) => c.contact), ['c', 'b', 'd', 'a', 'e']);
    const b = r.contacts[1] as UlContact;
    b.update(info({ q: 1000 }));
    r.reposition(b);
    assert.deepEqual(r.contacts.map((c) => c.contact), ['b', 'c', 'd', 'a', 'e'], 'a changed q moves it to its place');
    const t = new ContactRecord('alice', true);
    for (const uri of ['a', 'b', 'c']) t.insert(contact(uri, { q: 500 }));
    assert.deepEqual(t.contacts.map((c) => c.contact), ['c', 'b', 'a']);
  });

  test('matching: the same Call-ID with a lower CSeq is out of order; the same CSeq is a retransmission within cseq_delay', () => {
    const r = new ContactRecord('alice', false);
    r.insert(contact('sip:a@x', { callid: 'c1', cseq: 5, lastModified: NOW - 5 }));
    const m = (uri: string, o: { callid?: string; cseq?: number; path?: string | null }, mode = CONTACT_ONLY, delay = 20) =>
      r.find(uri, { callid: o.callid ?? 'c1', cseq: o.cseq ?? 6, path: o.path ?? null, instance: null, regId: 0 }, { mode, cseqDelay: delay }, NOW).kind;
    assert.equal(m('sip:a@x', { cseq: 6 }), 'found');
    assert.equal(m('sip:a@x', { cseq: 4 }), 'out-of-order');
    assert.equal(m('sip:a@x', { cseq: 5 }), 'retransmission');
    assert.equal(m('sip:a@x', { cseq: 5 }, CONTACT_ONLY, 2), 'out-of-order', 'after cseq_delay');
    assert.equal(m('sip:a@x', { callid: 'other', cseq: 1 }), 'found', 'another Call-ID may go lower');
    assert.equal(m('sip:b@x', {}), 'none');
    assert.equal(m('sip:a@x', { callid: 'other', cseq: 1 }, CONTACT_CALLID), 'none', 'matching_mode 1: the Call-ID is part of the key');
    assert.equal(m('sip:zzz@x', { callid: 'c1', cseq: 9 }, CALLID_ONLY), 'found', 'matching_mode 3: the Call-ID alone');
    r.insert(contact('sip:p@x', { callid: 'c2', cseq: 1, path: '<sip:edge;lr>' }));
    assert.equal(m('sip:p@x', { callid: 'c2', cseq: 2, path: '<sip:other;lr>' }, CONTACT_PATH), 'none', 'matching_mode 2: another Path is another binding');
    assert.equal(m('sip:p@x', { callid: 'c2', cseq: 2, path: '<sip:edge;lr>' }, CONTACT_PATH), 'found');
  });

  test('a Contact with +sip.instance is found by instance and reg-id only', () => {
    const r = new ContactRecord('alice', false);
    r.insert(contact('sip:a@old', { instance: '<urn:uuid:1>', regId: 1 }));
    const f = (instance: string, regId: number) => r.find('sip:a@new', { callid: 'x', cseq: 1, path: null, instance, regId }, { mode: CONTACT_ONLY, cseqDelay: 20 }, NOW).kind;
    assert.equal(f('urn:uuid:1', 1), 'found');
    assert.equal(f('<urn:uuid:1>', 2), 'none');
  });

  test('Kamailio\'s AoR hash (ul.dump HashID) and q', () => {
    assert.equal(aorHash('alice'), 1834153949, 'the HashID Kamailio 5.6 showed for "alice"');
    assert.deepEqual([0, 1, 10, 100, 500, 505, 999, 1000, -1].map(formatQ), ['0', '0.001', '0.01', '0.1', '0.5', '0.505', '0.999', '1', '']);
    assert.deepEqual(['0', '0.5', '0.123', '1', '1.000', '1.5', '0.1234', '-0.1', ''].map(parseQ), [0, 500, 123, 1000, 1000, null, null, null, null]);
  });

  test('rows: Julian days on SQLite (Kamailio\'s db_sqlite) and local DATETIMEs, both read back exactly', () => {
    const t = 1_796_219_128;
    assert.equal(fromDatetime(dbTime(t, 'sqlite')), t);
    assert.equal(fromDatetime(dbTime(t, 'mysql')), t);
    assert.equal(fromDatetime(2461377.1330150464), 1_796_224_293, 'a value Kamailio wrote (its expires of a REGISTER at that time)');
    const c = contact('sip:alice@192.0.2.1', { q: 700, received: 'sip:198.51.100.1:5060', cflags: 64 });
    const row: Record<string, unknown> = {};
    rowValues(c, false, 'sqlite').forEach((v, i) => { row[COLUMNS[i] ?? '?'] = v; });
    assert.equal(row.q, 0.7);
    assert.equal(row.methods, null, 'every method: NULL');
    assert.equal(row.domain, null);
    const back = contactFromRow(row, false);
    assert.ok(back !== null);
    assert.equal(back.aor, 'alice');
    assert.deepEqual([back.info.q, back.info.expires, back.info.cflags, back.info.received], [700, NOW + 3600, 64, 'sip:198.51.100.1:5060']);
    const withDomain = contactFromRow({ ...row, username: 'bob', domain: 'example.com' }, true);
    assert.equal(withDomain?.aor, 'bob@example.com');
  });
});
