/**
 * The dispatcher.* control RPC commands with Kamailio's names, replies and faults
 * (dispatcher.c dispatcher_rpc_*): list, reload, set_state, ping_active.
 */
import type { CallLoad } from '../host/dispatcher/call-load.js';
import { DS_NODNSARES, makeDestination } from '../host/dispatcher/destination.js';
import { dsHash } from '../host/dispatcher/hash.js';
import { flagsText, parseRpcState, ReloadRefused, type DsStore } from '../host/dispatcher/store.js';
import type { Counter } from '../host/kemi/stats.js';
import type { ModuleHost } from '../host/kemi/types.js';
import { RpcError } from '../host/rpc/jsonrpc.js';

export interface DsRpcState {
  readonly host: ModuleHost;
  readonly store: DsStore | null;
  /** keepalives on or off (dispatcher.ping_active) */
  readonly ping: { active: boolean };
  readonly reloads: Counter;
  readonly failures: Counter;
  /** algorithm 10's call table (dispatcher.list shows RUNTIME.DLGLOAD with it) */
  readonly calls: CallLoad | null;
}

export function rpcList(s: DsRpcState, p: readonly unknown[]): unknown {
  const mode = typeof p[0] === 'string' ? p[0].toLowerCase() : '';
  const sets = s.store?.all() ?? [];
  if (sets.length === 0) throw new RpcError(500, 'No Destination Sets');
  const records = sets.map((set) => ({
    SET: {
      ID: set.id,
      TARGETS: set.dests.map((d) => {
        const dest: Record<string, unknown> = { URI: d.uri, FLAGS: flagsText(d.flags), PRIORITY: d.priority };
        if (mode !== 'short' && d.attrs.body !== '') {
          const a = d.attrs;
          dest.ATTRS = { BODY: a.body, DUID: a.duid, MAXLOAD: a.maxload, WEIGHT: a.weight, RWEIGHT: a.rweight, SOCKET: a.socket, SOCKNAME: a.sockname, OBPROXY: a.obproxy };
        }
        if (s.calls !== null) dest.RUNTIME = { DLGLOAD: d.dload };
        return { DEST: dest };
      }),
    },
  }));
  return { NRSETS: sets.length, RECORDS: records };
}

export async function rpcReload(s: DsRpcState, p: readonly unknown[]): Promise<string> {
  if (p.length > 0) throw new RpcError(-32602, 'dispatcher.reload takes no parameters');
  if (s.store === null) throw new RpcError(500, 'Not ready for reload', { reason: 'no modules.dispatcher section: nothing is loaded' });
  let work: Promise<number>;
  try {
    work = s.store.reload(Math.floor(Date.now() / 1000));
  } catch (e) {
    if (e instanceof ReloadRefused) throw new RpcError(500, 'Ongoing reload', { reason: 'reload_delta: the previous reload was too recent' });
    throw e;
  }
  try {
    await work;
  } catch (e) {
    s.failures.value++;
    const reason = e instanceof Error ? e.message : String(e);
    s.host.log.error({ err: reason }, 'dispatcher: reload failed; the sets in use stay');
    throw new RpcError(500, 'Reload Failed', { reason });
  }
  s.reloads.value++;
  return 'Ok. Dispatcher successfully reloaded.';
}

export function rpcSetState(s: DsRpcState, p: readonly unknown[], byDuid = false): string {
  const [state, group, dest] = p;
  const g = typeof group === 'number' ? group : typeof group === 'string' && /^-?\d+$/.test(group) ? Number(group) : NaN;
  if (typeof state !== 'string' || !Number.isInteger(g) || typeof dest !== 'string') throw new RpcError(500, 'Invalid Parameters');
  if (state === '') throw new RpcError(500, 'Invalid State Parameter');
  const v = parseRpcState(state);
  if (v < 0) throw new RpcError(500, 'Unknown State Value');
  const store = s.store;
  if (store === null) throw new RpcError(500, 'State Update Failed');
  if (dest === 'all') store.setStateAll(g, v);
  else if (!(byDuid ? store.setStateByDuid(g, dest, v) : store.setState(g, dest, v))) throw new RpcError(500, 'State Update Failed');
  return 'Ok. Dispatcher state updated.';
}

export function rpcPingActive(s: DsRpcState, p: readonly unknown[]): unknown {
  const cur = s.ping.active ? 1 : 0;
  if (p.length === 0) return { OldPingState: cur };
  const v = Number(p[0]);
  if (v !== 0 && v !== 1) throw new RpcError(500, 'Invalid Parameters');
  s.ping.active = v === 1;
  return { NewPingState: v, OldPingState: cur };
}

const intParam = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN);

/** dispatcher.add / dispatcher.remove: the reload_delta refusal they share with reload. */
function claim(store: DsStore | null): DsStore {
  if (store === null) throw new RpcError(500, 'Not ready for reload');
  try {
    store.claimChange(Math.floor(Date.now() / 1000));
  } catch (e) {
    if (e instanceof ReloadRefused) throw new RpcError(500, 'Ongoing reload');
    throw e;
  }
  return store;
}

export function rpcAdd(s: DsRpcState & { readonly attrsNone: boolean }, p: readonly unknown[]): string {
  const group = intParam(p[0]);
  const uri = p[1];
  const flags = p.length > 2 ? intParam(p[2]) : 0;
  const priority = p.length > 3 ? intParam(p[3]) : 0;
  const attrs = p.length > 4 ? p[4] : '';
  if (!Number.isInteger(group) || typeof uri !== 'string' || !Number.isInteger(flags) || !Number.isInteger(priority) || typeof attrs !== 'string') {
    throw new RpcError(500, 'Invalid Parameters');
  }
  const store = claim(s.store);
  let dest;
  try {
    dest = makeDestination(uri, flags, priority, attrs, s.attrsNone);
  } catch {
    throw new RpcError(500, 'Adding dispatcher dst failed');
  }
  if (dest.ip === null && (dest.flags & DS_NODNSARES) === 0) throw new RpcError(500, 'Adding dispatcher dst failed', { reason: 'a host name: add it with flag 16 (no DNS), or by its address' });
  store.rebuild({ group, dest }, null);
  return 'Ok. Dispatcher destination added.';
}

export function rpcRemove(s: DsRpcState, p: readonly unknown[]): string {
  const group = intParam(p[0]);
  const uri = p[1];
  if (!Number.isInteger(group) || typeof uri !== 'string') throw new RpcError(500, 'Invalid Parameters');
  claim(s.store).rebuild(null, { group, uri });
  return 'Ok. Dispatcher destination removed.';
}

/** dispatcher.hash: Kamailio's hash of one or two values, and the slot among `nslots`. */
export function rpcHash(p: readonly unknown[]): { hashid: number; slot: number } {
  const n = intParam(p[0]);
  const v1 = p[1];
  const v2 = p[2];
  if (!Number.isInteger(n) || typeof v1 !== 'string' || (v2 !== undefined && typeof v2 !== 'string')) throw new RpcError(500, 'Invalid Parameters');
  const hashid = dsHash(v1, v2 ?? null);
  return { hashid, slot: n > 0 ? hashid % n : 0 };
}
