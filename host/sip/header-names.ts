/**
 * Canonical header names: lowercase full names, compact forms expanded (RFC 3261 §7.3.3 and the
 * IANA SIP header registry). Names are interned, so comparing two canonical names is usually a
 * pointer comparison.
 */

/** Canonical names the SIP core looks up often. */
export const H = {
  via: 'via',
  from: 'from',
  to: 'to',
  callId: 'call-id',
  cseq: 'cseq',
  contentLength: 'content-length',
  contentType: 'content-type',
  contact: 'contact',
  maxForwards: 'max-forwards',
  route: 'route',
  recordRoute: 'record-route',
} as const;

const COMPACT: Readonly<Record<string, string>> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event',
  r: 'refer-to',
  b: 'referred-by',
  u: 'allow-events',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  x: 'session-expires',
  y: 'identity',
  n: 'identity-info',
};

/** Spellings seen on most messages (case variants are added where used). */
const COMMON_NAMES = [
  'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Content-Length', 'Content-Type', 'Contact', 'Max-Forwards',
  'Route', 'Record-Route', 'Allow', 'Supported', 'Require', 'Proxy-Require', 'User-Agent', 'Server',
  'Accept', 'Expires', 'Date', 'Subject', 'Event', 'Authorization', 'Proxy-Authorization',
  'WWW-Authenticate', 'Proxy-Authenticate', 'Call-Id', 'Cseq', 'Content-Disposition', 'Session-Expires',
  'Min-SE', 'P-Asserted-Identity', 'Privacy', 'Refer-To', 'Referred-By', 'Allow-Events', 'Reason',
];

/**
 * A memo of a pure function (raw spelling → canonical name); it holds no state any caller can
 * observe. Bounded, because names come from the network: past the bound, names are still
 * canonicalised, just not remembered.
 */
const MAX_ENTRIES = 2048;
const byRaw = new Map<string, string>();
const interned = new Map<string, string>();

function intern(n: string): string {
  const known = interned.get(n);
  if (known !== undefined) return known;
  if (interned.size < MAX_ENTRIES) interned.set(n, n);
  return n;
}

function compute(raw: string): string {
  const lower = raw.toLowerCase();
  return intern(lower.length === 1 ? (COMPACT[lower] ?? lower) : lower);
}

for (const n of Object.values(H)) interned.set(n, n);
for (const n of Object.values(COMPACT)) interned.set(n, n);
for (const raw of [...COMMON_NAMES, ...Object.keys(COMPACT)]) {
  byRaw.set(raw, compute(raw));
  byRaw.set(raw.toLowerCase(), compute(raw));
  byRaw.set(raw.toUpperCase(), compute(raw));
}

/** The canonical name for a header name as written (case-insensitive, compact or full). */
export function canonicalHeaderName(raw: string): string {
  const hit = byRaw.get(raw);
  if (hit !== undefined) return hit;
  const n = compute(raw);
  if (byRaw.size < MAX_ENTRIES) byRaw.set(raw, n);
  return n;
}
