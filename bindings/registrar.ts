/**
 * KSR.registrar: REGISTER processing and location lookup (Kamailio's registrar module, KEMI
 * names, parameters and return codes) on usrloc's store. docs/registrar.md describes each
 * function, the parameters and where kemihost differs.
 */
import type { Context } from '../host/kemi/context.js';
import { defineModule, fn, type ModuleHost } from '../host/kemi/types.js';
import { parseQ } from '../host/sip/dset.js';
import { lookup, lookupBranches, registered, unregister } from './registrar/lookup.js';
import { registrarParams, type RegistrarParams } from './registrar/params.js';
import { save, sendPendingReply } from './registrar/save.js';
import type { RegState } from './registrar/state.js';
import { fetchContacts, freeContacts, ulcPv } from './registrar/ulc.js';
import { usrlocOf } from './usrloc.js';

function init(host: ModuleHost, p: RegistrarParams): RegState {
  const store = usrlocOf(host);
  if (store === null) host.log.warn('registrar: usrloc is not loaded; every registrar function returns -1');
  host.gauge('max_expires').value = p.max_expires;
  host.gauge('max_contacts').value = p.max_contacts;
  host.gauge('default_expire').value = p.default_expires;
  return {
    host,
    p,
    store,
    aorOptions: { useDomain: store?.useDomain ?? false, caseSensitive: p.case_sensitive === 1, realmPrefix: p.realm_prefix },
    accepted: host.stat('accepted_regs'),
    rejected: host.stat('rejected_regs'),
    pendingReply: new WeakMap(),
    qOverride: new WeakMap(),
    profiles: new Map(),
  };
}

function setQOverride(s: RegState, ctx: Context, q: string): number {
  const v = parseQ(q);
  if (v === null) {
    s.host.complain('set_q_override: invalid q value (0 to 1, at most three decimals)', { q });
    return -1;
  }
  s.qOverride.set(ctx, v);
  return 1;
}

/** add_sock_hdr: a header naming the socket the REGISTER came in on (proto:ip:port). */
function addSockHdr(s: RegState, ctx: Context, name: string): number {
  if (name === '' || !/^[!-9;-~]+$/.test(name) || ctx.msg?.isRequest !== true) {
    s.host.complain('add_sock_hdr: a header name is needed, on a request', { name });
    return -1;
  }
  const src = ctx.src;
  const ip = src.localIp.includes(':') ? `[${src.localIp}]` : src.localIp;
  ctx.headerEdits.append.push(`${name}: ${src.proto}:${ip}:${String(src.localPort)}\r\n`);
  return 1;
}

export default defineModule({
  name: 'registrar',
  doc: 'REGISTER processing (save, with the 200 listing every binding) and location lookup (lookup: R-URI, $du, branch flags, branches to fork to), on usrloc.',
  params: registrarParams,
  stats: ['accepted_regs', 'rejected_regs', 'max_expires', 'max_contacts', 'default_expire'],
  init,
  pvs: { ulc: ulcPv },
  functions: {
    save: fn(['str', 'int'], 'int', (s: RegState, ctx, table, flags) => save(s, ctx, table, flags, null),
      'Store the REGISTER\'s contacts in the table and reply (200 with every binding). Flags: 0x01 memory only, 0x02 no reply (reg_send_reply), 0x04 one contact per AoR, 0x08 no expires variation, 0x10 prepare the reply headers. 1 inserted, 2 updated, 3 deleted, 4 listed, -1 error, -2 too many contacts.'),
    save_uri: fn(['str', 'int', 'str'], 'int', (s: RegState, ctx, table, flags, uri) => save(s, ctx, table, flags, uri),
      'save() for the AoR of this URI instead of the To URI.'),
    lookup: fn(['str'], 'int', (s: RegState, ctx, table) => lookup(s, ctx, table, null, false),
      'Best contact of the R-URI\'s AoR into the R-URI ($du: Path or received address, branch flags restored), the others into branches (append_branches). 1 found, -1 none, -2 method not allowed (method_filtering), -3 no AoR.'),
    lookup_uri: fn(['str', 'str'], 'int', (s: RegState, ctx, table, uri) => lookup(s, ctx, table, uri, false),
      'lookup() for the AoR of this URI instead of the R-URI.'),
    lookup_to_dset: fn(['str', 'str'], 'int', (s: RegState, ctx, table, uri) => lookup(s, ctx, table, uri === '' ? null : uri, true),
      'Every contact of the AoR (of uri, or "" for the R-URI) into branches; the R-URI stays. Codes as lookup().'),
    lookup_branches: fn(['str'], 'int', (s: RegState, ctx, table) => lookupBranches(s, ctx, table),
      'lookup() on the R-URI and on every branch that has only a URI. 1 when any was found, else the last code.'),
    registered: fn(['str'], 'int', (s: RegState, ctx, table) => registered(s, ctx, table, null),
      '1 when the R-URI\'s AoR (the To URI\'s for a reply) has a valid contact, else -1.'),
    registered_uri: fn(['str', 'str'], 'int', (s: RegState, ctx, table, uri) => registered(s, ctx, table, uri === '' ? null : uri),
      'registered() for the AoR of this URI.'),
    registered_flags: fn(['str', 'str', 'int'], 'int', (s: RegState, ctx, table, uri) => registered(s, ctx, table, uri === '' ? null : uri),
      'registered_uri(); the match flags need xavp_cfg, which kemihost has not, so they match any contact (as Kamailio without xavp_cfg).'),
    registered_action: fn(['str', 'str', 'int', 'int'], 'int', (s: RegState, ctx, table, uri) => registered(s, ctx, table, uri === '' ? null : uri),
      'registered_uri(); match and action flags as for registered_flags.'),
    unregister: fn(['str', 'str'], 'int', (s: RegState, ctx, table, uri) => unregister(s, ctx, table, uri, null),
      'Remove every contact of the URI\'s AoR. 1 ok, -1 no table or no AoR.'),
    unregister_ruid: fn(['str', 'str', 'str'], 'int', (s: RegState, ctx, table, uri, ruid) => unregister(s, ctx, table, uri, ruid),
      'Remove the AoR\'s contact with this ruid. 1 ok, -1 no table or AoR, -3 no such contact.'),
    reg_send_reply: fn([], 'int', (s: RegState, ctx) => sendPendingReply(s, ctx),
      'Send the reply a save() with flag 0x02 prepared. 1 sent, -1 none prepared.'),
    reg_fetch_contacts: fn(['str', 'str', 'str'], 'int', (s: RegState, _ctx, table, uri, profile) => fetchContacts(s, table, uri, profile),
      'Copy the AoR\'s contacts into the $ulc profile. 1 ok, -1 none.'),
    reg_free_contacts: fn(['str'], 'int', (s: RegState, _ctx, profile) => freeContacts(s, profile),
      'Forget a $ulc profile. 1.'),
    set_q_override: fn(['str'], 'int', (s: RegState, ctx, q) => setQOverride(s, ctx, q),
      'The q ("0.5") every contact of this message is saved with. 1 ok, -1 invalid.'),
    add_sock_hdr: fn(['str'], 'int', (s: RegState, ctx, name) => addSockHdr(s, ctx, name),
      'Add a header with this name naming the socket the request came in on (udp:192.0.2.1:5060). 1 ok, -1 no name.'),
  },
});
