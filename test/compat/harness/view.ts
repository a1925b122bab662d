/**
 * What of a received message is compared between Kamailio and kemihost: the start line, the
 * headers a case names (every value of each, in the order received), optionally the body, each
 * as a text line passed through the case's masks. Masks replace what must differ between two
 * servers (their port, the branches and tags they generate) by a placeholder, so the reader of
 * a case sees exactly what is compared and what is not.
 */
import { canonicalHeaderName } from '../../../host/sip/header-names.js';
import type { SipMessage } from '../../../host/sip/message.js';

export interface RunInfo {
  /** the server's port in this run (UDP and TCP) */
  readonly serverPort: number;
  /**
   * A placeholder for a value the server generated, numbered in order of first appearance in
   * the run: the same value gets the same name everywhere, so that "the CANCEL carries the
   * INVITE's branch" is still compared while the values themselves are not.
   */
  alias(kind: string, value: string): string;
}

/** A RunInfo for one run: the aliases are shared by every message of the run. */
export function runInfo(serverPort: number): RunInfo {
  const names = new Map<string, string>();
  const counts = new Map<string, number>();
  return {
    serverPort,
    alias(kind, value) {
      const key = `${kind}\0${value}`;
      let name = names.get(key);
      if (name === undefined) {
        const n = (counts.get(kind) ?? 0) + 1;
        counts.set(kind, n);
        name = `<${kind}-${String(n)}>`;
        names.set(key, name);
      }
      return name;
    },
  };
}

export type Mask = (line: string, run: RunInfo) => string;

export interface View {
  /** compare the reason phrase of replies (default true) */
  reason?: boolean;
  /** headers compared, by name (case-insensitive), in this order */
  headers: readonly string[];
  /** compare the body too */
  body?: boolean;
  /**
   * Compare where these headers are relative to each other: one line listing, in received
   * order, every header among them (e.g. a header insert()ed goes before the Vias)
   */
  order?: readonly string[];
  /** applied in order to every compared line */
  masks: readonly Mask[];
  /** only the messages that pass (default: all that came from the server in this run) */
  only?: (m: SipMessage) => boolean;
}

/** Branches the server generated (peers' all start "z9hG4bK-peer") → <branch-1>, <branch-2>… */
export const GENERATED_BRANCH: Mask = (l, run) => l.replace(/branch=(z9hG4bK(?!-peer)[^;,\s]*)/gi, (_, b: string) => `branch=${run.alias('branch', b)}`);

/** Tags the server generated (peers' all start "peer") → <tag-1>, <tag-2>… */
export const GENERATED_TAG: Mask = (l, run) => l.replace(/tag=((?!peer)[^;,>\s]+)/gi, (_, t: string) => `tag=${run.alias('tag', t)}`);

/** The server's own port, wherever it appears as a number of its own (Via sent-by, rport, URIs, a value read by the script). */
export const SERVER_PORT: Mask = (l, run) => l.replace(new RegExp(`\\b${String(run.serverPort)}\\b`, 'g'), '<server-port>');

/**
 * Via parameters in sorted order. Where a server puts `received=` in a relayed request's Via
 * differs (Kamailio right after sent-by, kemihost at the end; see docs/compatibility.md) and
 * the order of parameters carries no meaning; which parameters and their values still count.
 */
export const VIA_PARAM_ORDER: Mask = (l) => {
  if (!/^via: /i.test(l)) return l;
  const [name, value] = [l.slice(0, 5), l.slice(5)];
  const sorted = value.split(',').map((el) => {
    const [sentBy = '', ...params] = el.split(';');
    return [sentBy, ...params.map((p) => p.trim()).sort()].join(';');
  });
  return name + sorted.join(',');
};

/** A case's own mask: every match of `re` (give it the g flag) becomes `to`. */
export function mask(re: RegExp, to: string): Mask {
  return (l) => l.replace(re, to);
}

/** What differs between any two servers by construction. */
export const STANDARD_MASKS: readonly Mask[] = [GENERATED_BRANCH, GENERATED_TAG, SERVER_PORT];

/** The compared lines of one message. */
export function render(m: SipMessage, v: View, run: RunInfo): string[] {
  const start = m.isRequest ? `${m.method} ${m.ruri}` : v.reason === false ? String(m.status) : `${String(m.status)} ${m.reason}`;
  const lines = [start];
  for (const name of v.headers) {
    for (const value of m.getHeaders(name)) lines.push(`${name}: ${value}`);
  }
  if (v.order !== undefined) {
    const wanted = new Set(v.order.map(canonicalHeaderName));
    lines.push(`order: ${m.headers.filter((h) => wanted.has(h.name)).map((h) => h.name).join(', ')}`);
  }
  if (v.body === true) lines.push(`body: ${m.body.toString('latin1')}`);
  return lines.map((l) => v.masks.reduce((acc, f) => f(acc, run), l));
}

/** The compared lines of every message a peer received in a run. */
export function renderAll(log: readonly SipMessage[], v: View, run: RunInfo): string[][] {
  return log.filter((m) => v.only?.(m) ?? true).map((m) => render(m, v, run));
}
