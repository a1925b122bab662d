/**
 * Kamailio's destination set (core dset.c): the branches a request forks to besides its R-URI.
 * `KSR.corex.append_branch` and the registrar's `lookup` fill it; tm's `t_relay` sends the
 * R-URI branch (when it is "new") and every appended branch in parallel, then empties it.
 *
 * The R-URI branch keeps its attributes on the Context (`$ru`, `$du`, `ctx.bflags`); what
 * Kamailio also keeps on the message for it — its q, its Path vector and the socket its
 * contact registered through — lives here.
 *
 * "New" follows Kamailio's ruri_is_new: a request's R-URI may fork; once t_relay has sent it
 * (and when a failure route starts) it is consumed, and becomes new again when the script
 * points it elsewhere. Kamailio marks it new on any write of $ru or $du; here it is new when
 * the R-URI or $du differs from what was consumed (a write of the same value does not count).
 */

/** Kamailio's Q_UNSPECIFIED: a q that was never given (printed nowhere, sorted last). */
export const Q_UNSPECIFIED = -1;

/**
 * Kamailio's default max_branches is 12 and append_branch refuses once 11 are appended (the
 * R-URI is the twelfth).
 */
export const MAX_APPENDED_BRANCHES = 11;

export interface DsetBranch {
  readonly uri: string;
  /** where to send instead of the URI ($du of the branch), null: the URI itself */
  readonly dstUri: string | null;
  /** the Path vector (RFC 3327) the branch is routed through: sent as its first Route lines */
  readonly path: string | null;
  /** 0..1000 (q × 1000), or Q_UNSPECIFIED */
  readonly q: number;
  /** the branch flags the branch is sent with (its branch route and replies see them) */
  readonly bflags: number;
  /** "udp:192.0.2.1:5060": the socket the contact registered through, null when unknown */
  readonly socket: string | null;
}

export class DestinationSet {
  private readonly list: DsetBranch[] = [];
  /** the R-URI branch's q ($ru's q: set by lookup), Q_UNSPECIFIED when none */
  ruriQ = Q_UNSPECIFIED;
  /** the R-URI branch's Path vector (lookup of a contact registered through a Path) */
  ruriPath: string | null = null;
  /** the socket the R-URI's contact registered through */
  ruriSocket: string | null = null;
  private consumed: { readonly ruri: string; readonly dstUri: string | null } | null = null;

  get branches(): readonly DsetBranch[] {
    return this.list;
  }

  /** Add a branch; false when the set is full (Kamailio: "max nr of branches exceeded"). */
  append(b: DsetBranch): boolean {
    if (this.list.length >= MAX_APPENDED_BRANCHES) return false;
    this.list.push(b);
    return true;
  }

  /** Replace branch i (lookup_branches resolves a branch in place). */
  replace(i: number, b: DsetBranch): void {
    if (i >= 0 && i < this.list.length) this.list[i] = b;
  }

  /** Drop every appended branch (after t_relay sent them, or a script reset). */
  clear(): void {
    this.list.length = 0;
  }

  /** The R-URI branch was sent (or a failure route starts): it forks again only once changed. */
  consume(ruri: string, dstUri: string | null): void {
    this.consumed = { ruri, dstUri };
  }

  /** The R-URI may fork again whatever it is (Kamailio's ruri_mark_new: uac_auth sets it to the same URI). */
  markRuriNew(): void {
    this.consumed = null;
  }

  /** Whether the R-URI branch may fork now (Kamailio's ruri_get_forking_state). */
  ruriIsNew(ruri: string, dstUri: string | null): boolean {
    const c = this.consumed;
    return c === null || c.ruri !== ruri || c.dstUri !== dstUri;
  }

  /** The R-URI's own attributes back to none (a new contact is put in the R-URI). */
  resetRuriAttributes(): void {
    this.ruriQ = Q_UNSPECIFIED;
    this.ruriPath = null;
    this.ruriSocket = null;
  }
}

/** "0.5", "1", "0" for q × 1000 (Kamailio's q2str); '' for Q_UNSPECIFIED. */
export function formatQ(q: number): string {
  if (q === Q_UNSPECIFIED) return '';
  if (q >= 1000) return '1';
  if (q <= 0) return '0';
  return `0.${String(q).padStart(3, '0').replace(/0+$/, '')}`;
}

/**
 * A q value as RFC 3261 writes it (`0`, `0.5`, `1.000`) → q × 1000; null when malformed
 * (Kamailio's str2q refuses the same: more than three decimals, above 1, signs, spaces).
 */
export function parseQ(s: string): number | null {
  const m = /^(0(?:\.(\d{0,3}))?|1(?:\.(0{0,3}))?)$/.exec(s.trim());
  if (m === null) return null;
  if ((m[1] ?? '').startsWith('1')) return 1000;
  return Number((m[2] ?? '').padEnd(3, '0'));
}
