/**
 * Rewriting parts of a SIP URI as text ($rU, $rd, KSR.setuser, KSR.sethost): the rest of the
 * URI (parameters, headers, the password) is kept exactly as written.
 */
/** A URI cut around its host[:port]: `${before}${hostport}${rest}` is the URI as written. */
export interface UriHostPort {
  readonly before: string;
  readonly hostport: string;
  readonly rest: string;
}

interface UriParts {
  scheme: string;
  userinfo: string | null;
  hostport: string;
  rest: string;
}

function split(uri: string): UriParts | null {
  const colon = uri.indexOf(':');
  if (colon <= 0) return null;
  const scheme = uri.slice(0, colon);
  let tail = uri.slice(colon + 1);
  let userinfo: string | null = null;
  const q = tail.indexOf('?');
  const at = tail.lastIndexOf('@', q < 0 ? tail.length : q);
  if (at >= 0) {
    userinfo = tail.slice(0, at);
    tail = tail.slice(at + 1);
  }
  const m = /^(\[[^\]]*\](?::\d+)?|[^;?]*)(.*)$/s.exec(tail);
  if (m === null) return null;
  return { scheme, userinfo, hostport: m[1] ?? '', rest: m[2] ?? '' };
}

function join(p: UriParts): string {
  return `${p.scheme}:${p.userinfo === null || p.userinfo === '' ? '' : `${p.userinfo}@`}${p.hostport}${p.rest}`;
}

/** Replace the user (keeping a password); an empty user removes the userinfo. */
export function setUriUser(uri: string, user: string): string | null {
  const p = split(uri);
  if (p === null) return null;
  const pw = p.userinfo === null ? -1 : p.userinfo.indexOf(':');
  p.userinfo = user === '' ? null : pw >= 0 && p.userinfo !== null ? `${user}${p.userinfo.slice(pw)}` : user;
  return join(p);
}

/** Replace the host, keeping the port. */
export function setUriHost(uri: string, host: string): string | null {
  const p = split(uri);
  if (p === null || host === '') return null;
  const m = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(p.hostport);
  p.hostport = `${host}${m?.[2] ?? ''}`;
  return join(p);
}

/** Replace the port; 0 removes it. */
export function setUriPort(uri: string, port: number): string | null {
  const p = split(uri);
  if (p === null) return null;
  const m = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(p.hostport);
  p.hostport = `${m?.[1] ?? p.hostport}${port > 0 ? `:${String(port)}` : ''}`;
  return join(p);
}

/** The URI cut around its host[:port] (nathelper rewrites and extends it there); null when not a URI. */
export function cutHostPort(uri: string): UriHostPort | null {
  const p = split(uri);
  if (p === null) return null;
  const before = `${p.scheme}:${p.userinfo === null || p.userinfo === '' ? '' : `${p.userinfo}@`}`;
  return { before, hostport: p.hostport, rest: p.rest };
}
