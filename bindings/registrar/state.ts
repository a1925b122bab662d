/**
 * The registrar's state in one runtime: its parameters, usrloc's store, and what lives per
 * message (the reply save() prepared for reg_send_reply, set_q_override) or per runtime
 * (the $ulc profiles, which outlive a message as Kamailio's do within a process).
 */
import type { Context } from '../../host/kemi/context.js';
import type { Counter } from '../../host/kemi/stats.js';
import type { ModuleHost } from '../../host/kemi/types.js';
import type { UlContact } from '../../host/usrloc/contact.js';
import type { LocationTable } from '../../host/usrloc/location-table.js';
import type { UsrlocStore } from '../../host/usrloc/store.js';
import type { AorOptions } from './aor.js';
import type { RegistrarParams } from './params.js';
import type { RegReply } from './reply.js';

/** What reg_fetch_contacts put in a $ulc profile. */
export interface UlcProfile {
  readonly aor: string;
  readonly table: string;
  readonly aorHash: number;
  readonly contacts: readonly UlContact[];
}

export interface RegState {
  readonly host: ModuleHost;
  readonly p: RegistrarParams;
  /** null when usrloc is not loaded (every call then fails with -1) */
  readonly store: UsrlocStore | null;
  readonly aorOptions: AorOptions;
  readonly accepted: Counter;
  readonly rejected: Counter;
  /** the reply save() did not send (flag 0x02), for reg_send_reply */
  readonly pendingReply: WeakMap<Context, RegReply>;
  /** set_q_override: the q of this message's contacts */
  readonly qOverride: WeakMap<Context, number>;
  readonly profiles: Map<string, UlcProfile>;
}

/** The location table a script names, or null after a complaint (Kamailio: "usrloc domain not found", -1). */
export function tableFor(s: RegState, fname: string, name: string): { store: UsrlocStore; table: LocationTable } | null {
  const store = s.store;
  if (store === null) {
    s.host.complain(`${fname}: usrloc is not loaded`);
    return null;
  }
  const table = store.table(name);
  if (table === null) {
    s.host.complain(`${fname}: usrloc domain (table) not found; list it in modules.usrloc.preload`, { table: name });
    return null;
  }
  return { store, table };
}
