/** The permissions store's load/reload rules, and the module's RPC answers without a table. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import permissions from '../../bindings/permissions.js';
import { KemiRegistry } from '../../host/kemi/registry.js';
import { NO_SCRIPT } from '../../host/kemi/offline-script.js';
import { strtoipx } from '../../host/net/kamailio-ip.js';
import { AddressStore, ReloadRefused } from '../../host/permissions/address-store.js';
import type { AddressRow, AddressTable } from '../../host/permissions/address-table.js';
import { RpcError } from '../../host/rpc/jsonrpc.js';
import { myself } from '../helpers/binding-harness.js';

const ip = (s: string): NonNullable<ReturnType<typeof strtoipx>> => strtoipx(s) ?? assert.fail(s);

describe('AddressStore', () => {
  it('a failed load keeps the table in use; the next good one replaces it', async () => {
    let rows: AddressRow[] = [{ grp: 1, ip: '10.0.0.1', mask: 32, port: 0, tag: null }];
    const store = new AddressStore({ read: () => Promise.resolve(rows), maxSubnets: 10, reloadDeltaS: 0 });
    const current = (): AddressTable | null => store.current;
    assert.equal(current(), null);
    await store.load();
    rows = [{ grp: 1, ip: '10.0.0.2', mask: 40, port: 0, tag: null }];
    await assert.rejects(store.load(), /mask 40/);
    assert.notEqual(current()?.matchIp(ip('10.0.0.1'), 1, 1), null);
    rows = [{ grp: 1, ip: '10.0.0.2', mask: 32, port: 0, tag: null }];
    await store.load();
    assert.equal(current()?.matchIp(ip('10.0.0.1'), 1, 1), null);
  });

  it('reloads run one after the other, so the last one asked reads the newest rows', async () => {
    let version = 0;
    let running = 0;
    let overlap = false;
    const store = new AddressStore({
      read: async () => {
        running++;
        if (running > 1) overlap = true;
        const v = ++version;
        await new Promise((r) => setTimeout(r, 10));
        running--;
        return [{ grp: v, ip: '10.0.0.1', mask: 32, port: 0, tag: null }];
      },
      maxSubnets: 10,
      reloadDeltaS: 0,
    });
    await Promise.all([store.load(), store.load(), store.load()]);
    assert.equal(overlap, false);
    assert.equal(store.current?.matchIp(ip('10.0.0.1'), 1, null)?.grp, 3);
  });

  it('an RPC reload within reload_delta of the previous one is refused; a load at start does not count', async () => {
    let now = 1_000_000;
    const store = new AddressStore({ read: () => Promise.resolve([]), maxSubnets: 10, reloadDeltaS: 5, now: () => now });
    await store.load();
    await store.reload();
    now += 4999;
    await assert.rejects(store.reload(), (e: unknown) => e instanceof ReloadRefused && e.message === 'ongoing reload');
    now += 1;
    await store.reload();
  });
});

describe('permissions RPC without a table', () => {
  const registry = (configured: boolean): KemiRegistry =>
    new KemiRegistry([permissions], { log: pino({ level: 'silent' }), myself, script: NO_SCRIPT, params: configured ? { permissions: { load_backends: 2 } } : {} });
  const rpc = (reg: KemiRegistry, method: string): unknown => reg.rpc.get(method)?.run([]);

  it('dumps answer "No address table" and a reload "Reload failed." (500), as Kamailio without a db_url', async () => {
    for (const reg of [registry(false), registry(true)]) {
      for (const m of ['permissions.addressDump', 'permissions.subnetDump', 'permissions.domainDump']) {
        assert.throws(() => rpc(reg, m), (e: unknown) => e instanceof RpcError && e.code === 500 && e.message === 'No address table');
      }
      await assert.rejects(Promise.resolve(rpc(reg, 'permissions.addressReload')), (e: unknown) => e instanceof RpcError && e.code === 500 && e.message === 'Reload failed.');
    }
  });
});
