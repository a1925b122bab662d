/**
 * The credentials pseudo-variables ($au, $ar, $adu…), read as Kamailio's pv module reads them
 * (pv_get_authattr): from the first Proxy-Authorization header, else the first Authorization,
 * whatever its realm; $null for ACK and CANCEL, without such a header, or when it is not Digest
 * or does not parse. A parameter the credentials lack reads as '' ($adu as $null).
 */
import type { Context } from '../../host/kemi/context.js';
import type { PvDef, Xval } from '../../host/kemi/types.js';
import { parseDigestCredentials, type DigestCredentials } from '../../host/auth/credentials.js';

function credentials(ctx: Context): DigestCredentials | null {
  const msg = ctx.msg;
  if (msg === null || !msg.isRequest || msg.method === 'ACK' || msg.method === 'CANCEL') return null;
  const value = msg.getHeader('proxy-authorization') ?? msg.getHeader('authorization');
  if (value === undefined) return null;
  const p = parseDigestCredentials(value);
  return p.kind === 'digest' ? p.cred : null;
}

function pv(doc: string, read: (c: DigestCredentials) => Xval): PvDef {
  return { stable: true, doc, get: (_s, ctx) => { const c = credentials(ctx); return c === null ? null : read(c); } };
}

export const authPvs: Readonly<Record<string, PvDef>> = {
  au: pv('user part of the credentials\' username (before @)', (c) => c.user),
  ad: pv('domain part of the credentials\' username (after @), \'\' when none', (c) => c.domain),
  aU: pv('the credentials\' whole username', (c) => c.username ?? ''),
  ar: pv('the credentials\' realm', (c) => c.realm ?? ''),
  adu: pv('the credentials\' digest uri, $null when empty', (c) => (c.uri === null || c.uri === '' ? null : c.uri)),
  aa: pv('the credentials\' algorithm', (c) => c.algorithm ?? ''),
  adn: pv('the credentials\' nonce', (c) => c.nonce ?? ''),
  adc: pv('the credentials\' cnonce', (c) => c.cnonce ?? ''),
  adr: pv('the credentials\' response', (c) => c.response ?? ''),
  ado: pv('the credentials\' opaque', (c) => c.opaque ?? ''),
};
