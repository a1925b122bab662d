/**
 * usrloc: the location tables (host/usrloc). Like Kamailio's usrloc it exports no script
 * functions: registrar uses its store (ModuleHost.api('usrloc')), operators its RPC (ul.dump,
 * ul.lookup, ul.rm, ul.rm_contact, ul.flush) and `kemihost ctl ul show`.
 */
import { defineModule, type ModuleHost } from '../host/kemi/types.js';
import { usrlocParams } from '../host/usrloc/params.js';
import { usrlocRpc } from '../host/usrloc/rpc.js';
import { USRLOC_STATS, UsrlocStore } from '../host/usrloc/store.js';

/** usrloc's store as another module reaches it (registrar), or null when usrloc is not loaded. */
export function usrlocOf(host: ModuleHost): UsrlocStore | null {
  const api = host.api('usrloc');
  return api instanceof UsrlocStore ? api : null;
}

export default defineModule({
  name: 'usrloc',
  doc: 'The location tables (AoR → contacts) with expiry and the location table in the database (db_mode); no script functions.',
  params: usrlocParams,
  stats: USRLOC_STATS,
  init: (host, p): UsrlocStore => new UsrlocStore(host, p),
  start: (store) => store.start(),
  close: (store) => store.close(),
  api: (store) => store,
  rpc: usrlocRpc(),
  functions: {},
});
