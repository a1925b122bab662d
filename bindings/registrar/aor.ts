/**
 * The Address of Record of a URI, as Kamailio's registrar makes it (extract_aor): the user part
 * unescaped, `@domain` with usrloc's use_domain (realm_prefix stripped), lowercased unless
 * case_sensitive (then only the domain is). The key of the location table.
 */
import { parseUri, unescapeUser } from '../../host/sip/uri.js';
import type { Rerrno } from './reply.js';

const MAX_AOR_LEN = 256;
const USERNAME_MAX_SIZE = 64;
const DOMAIN_MAX_SIZE = 128;

export interface AorOptions {
  readonly useDomain: boolean;
  readonly caseSensitive: boolean;
  readonly realmPrefix: string;
}

/** The AoR, or the rerrno that says why there is none. */
export function extractAor(uri: string, o: AorOptions): { aor: string; host: string } | { error: Rerrno } {
  const u = parseUri(uri.trim());
  if (u === null) return { error: 'AOR_PARSE' };
  const host = u.host.replace(/^\[|\]$/g, '');
  if (u.user.length > USERNAME_MAX_SIZE || u.host.length > DOMAIN_MAX_SIZE || u.user.length + u.host.length + 1 > MAX_AOR_LEN) {
    return { error: 'AOR_LEN' };
  }
  let user: string;
  try {
    user = unescapeUser(u.user);
  } catch {
    return { error: 'UNESCAPE' };
  }
  let aor = user;
  if (o.useDomain) {
    let domain = u.host;
    const p = o.realmPrefix;
    if (p !== '' && p.length < domain.length && domain.startsWith(p)) domain = domain.slice(p.length);
    aor = user === '' ? domain : `${user}@${domain}`;
  }
  if (!o.caseSensitive) return { aor: aor.toLowerCase(), host };
  if (user === '') return { aor: aor.toLowerCase(), host };
  return { aor: aor.slice(0, user.length) + aor.slice(user.length).toLowerCase(), host };
}
