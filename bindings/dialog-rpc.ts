/** The dialog module's control RPC, with Kamailio's method names and answer fields. */
import type { ModuleRpcMethod } from '../host/kemi/types.js';
import type { Dialog, Leg } from '../host/dialog/dialog.js';
import { INVALID_PARAMS, RpcError } from '../host/rpc/jsonrpc.js';
import { terminate, type DlgState } from './dialog-flow.js';

function leg(l: Leg): Record<string, unknown> {
  return { tag: l.tag, contact: l.contact, cseq: String(l.cseq), route_set: l.routeSet.map((r) => `<${r}>`).join(','), socket: l.socket };
}

/** One dialog as Kamailio's dlg.list prints it. */
function describe(d: Dialog): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    h_entry: d.hEntry,
    h_id: d.hId,
    ref: 1,
    'call-id': d.callId,
    from_uri: d.fromUri,
    to_uri: d.toUri,
    state: d.state,
    start_ts: d.startTs,
    init_ts: d.initTs,
    end_ts: d.endTs,
    duration: d.startTs > 0 ? now - d.startTs : 0,
    timeout: d.expiresAt > 0 ? Math.ceil(d.expiresAt / 1000) : 0,
    lifetime: d.timeout,
    dflags: 0,
    sflags: d.sflags,
    iflags: d.iflags,
    caller: leg(d.caller),
    callee: leg(d.callee),
    profiles: [...d.profiles].flatMap(([name, values]) => [...values].map((v) => (v === '' ? { [name]: '' } : { [name]: v }))),
    variables: [...d.vars].map(([k, v]) => ({ [k]: v })),
  };
}

function str(p: readonly unknown[], i: number, what: string): string {
  const v = p[i];
  if (typeof v !== 'string' || v === '') throw new RpcError(INVALID_PARAMS, `${what} expected (a string)`);
  return v;
}

function int(p: readonly unknown[], i: number, what: string): number {
  const v = typeof p[i] === 'string' ? Number(p[i]) : p[i];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new RpcError(INVALID_PARAMS, `${what} expected (an integer)`);
  return v;
}

function ended(s: DlgState, d: Dialog | null): string {
  if (d === null || !d.active) throw new RpcError(404, 'Requested Dialog not found');
  if (!terminate(s, d)) throw new RpcError(500, 'Failed to terminate dialog');
  return 'OK';
}

export const dialogRpc: Readonly<Record<string, ModuleRpcMethod<DlgState>>> = {
  'dlg.list': { doc: 'Every dialog: ids, Call-ID, URIs, state (1 unconfirmed, 2 early, 3 confirmed without ACK, 4 confirmed), legs, profiles, variables', run: (s) => [...s.store.all()].map(describe) },
  'dlg.terminate_dlg': {
    doc: 'BYE both sides of the dialog with this Call-ID, From-tag [and To-tag], and end it',
    run: (s, p) => {
      const ci = str(p, 0, 'callid');
      const ft = str(p, 1, 'from tag');
      const tt = typeof p[2] === 'string' ? p[2] : '';
      return ended(s, s.store.find(ci, ft, tt));
    },
  },
  'dlg.end_dlg': {
    doc: 'BYE both sides of the dialog h_entry h_id, and end it',
    run: (s, p) => ended(s, s.store.get(int(p, 0, 'h_entry'), int(p, 1, 'h_id'))),
  },
  'dlg.profile_get_size': {
    doc: 'Dialogs in the profile (with the value, when given): { profile: { name, value, count } }',
    run: (s, p) => {
      const name = str(p, 0, 'profile name');
      const value = typeof p[1] === 'string' ? p[1] : '';
      if (s.store.profileTakesValue(name) === undefined) throw new RpcError(404, 'Profile not found');
      return { profile: { name, value, count: s.store.profileSize(name, value) } };
    },
  },
  'dlg.profile_list': {
    doc: 'The dialogs in the profile (with the value, when given), as dlg.list prints them',
    run: (s, p) => {
      const name = str(p, 0, 'profile name');
      if (s.store.profileTakesValue(name) === undefined) throw new RpcError(404, 'Profile not found');
      return s.store.profileMembers(name, typeof p[1] === 'string' ? p[1] : '').map(describe);
    },
  },
  'dlg.stats_active': {
    doc: 'Dialogs by state: starting, connecting, answering, ongoing, all',
    run: (s) => {
      const n = [0, 0, 0, 0, 0, 0];
      for (const d of s.store.all()) n[d.state] = (n[d.state] ?? 0) + 1;
      return { starting: n[1], connecting: n[2], answering: n[3], ongoing: n[4], all: s.store.size };
    },
  },
};
