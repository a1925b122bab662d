/**
 * The contacts of one AoR (Kamailio's urecord_t), kept in usrloc's order: highest q first,
 * contacts of equal q in the order they were first saved (an unspecified q, -1, sorts last);
 * with `desc_time_order` the most recently saved first. lookup() takes the first valid one.
 *
 * Finding the contact a REGISTER's Contact refers to follows `matching_mode` and RFC 3261
 * §10.3 step 7: the same Call-ID with a CSeq not above the stored one is out of order (a
 * retransmission within `cseq_delay` s is let through without an update).
 */
import type { ContactInfo, UlContact } from './contact.js';

/** usrloc's matching_mode values. */
export const CONTACT_ONLY = 0;
export const CONTACT_CALLID = 1;
export const CONTACT_PATH = 2;
export const CALLID_ONLY = 3;

export interface MatchOptions {
  readonly mode: number;
  /** seconds within which a REGISTER with the same Call-ID and CSeq is a retransmission */
  readonly cseqDelay: number;
}

/** What a REGISTER's Contact matched: the stored one, none, or a refusal. */
export type Match =
  | { readonly kind: 'found'; readonly contact: UlContact }
  | { readonly kind: 'none' }
  /** same Call-ID, lower CSeq (or the same one after cseq_delay): 400 Invalid CSeq number */
  | { readonly kind: 'out-of-order'; readonly contact: UlContact }
  /** same Call-ID and CSeq within cseq_delay: a retransmission, skipped */
  | { readonly kind: 'retransmission'; readonly contact: UlContact };

export class ContactRecord {
  readonly contacts: UlContact[] = [];

  constructor(
    readonly aor: string,
    private readonly descTimeOrder: boolean,
  ) {}

  get empty(): boolean {
    return this.contacts.length === 0;
  }

  /** Put a new contact where usrloc's order wants it. */
  insert(c: UlContact): void {
    const list = this.contacts;
    if (this.descTimeOrder) {
      list.unshift(c);
      return;
    }
    let i = 0;
    while (i < list.length && (list[i] as UlContact).q >= c.q) i++;
    list.splice(i, 0, c);
  }

  /** A contact's q or time changed: move it where it now belongs. */
  reposition(c: UlContact): void {
    const i = this.contacts.indexOf(c);
    if (i < 0) return;
    if (this.descTimeOrder) {
      if (i === 0) return;
    } else {
      const prev = this.contacts[i - 1];
      const next = this.contacts[i + 1];
      if ((prev === undefined || prev.q >= c.q) && (next === undefined || next.q <= c.q)) return;
    }
    this.contacts.splice(i, 1);
    this.insert(c);
  }

  remove(c: UlContact): boolean {
    const i = this.contacts.indexOf(c);
    if (i < 0) return false;
    this.contacts.splice(i, 1);
    return true;
  }

  byRuid(ruid: string): UlContact | undefined {
    return this.contacts.find((c) => c.ruid === ruid);
  }

  /**
   * The stored contact a REGISTER's Contact (with its Call-ID, CSeq, Path, +sip.instance and
   * reg-id) refers to, by Kamailio's get_ucontact_by_instance: a Contact with an instance is
   * found by instance and reg-id only; otherwise by `matching_mode`, then checked against the
   * CSeq.
   */
  find(uri: string, info: Pick<ContactInfo, 'callid' | 'cseq' | 'path' | 'instance' | 'regId'>, opts: MatchOptions, now: number): Match {
    if (info.instance !== null && info.instance !== '') {
      const want = unbracket(info.instance);
      const c = this.contacts.find((x) => x.instance !== null && x.instance !== '' && x.regId === info.regId && unbracket(x.instance) === want);
      // by instance only, and without the CSeq check (Kamailio's get_ucontact_by_instance)
      return c === undefined ? { kind: 'none' } : { kind: 'found', contact: c };
    }
    return this.findByMode(uri, info, opts, now);
  }

  private findByMode(uri: string, info: Pick<ContactInfo, 'callid' | 'cseq' | 'path'>, opts: MatchOptions, now: number): Match {
    let c: UlContact | undefined;
    switch (opts.mode) {
      case CONTACT_CALLID:
        c = this.contacts.find((x) => x.contact === uri && x.callid === info.callid);
        break;
      case CONTACT_PATH:
        // no Path in the REGISTER: as CONTACT_ONLY (usrloc's contact_path_match)
        c = info.path === null ? this.contacts.find((x) => x.contact === uri) : this.contacts.find((x) => x.contact === uri && (x.path ?? '') === info.path);
        break;
      case CALLID_ONLY:
        c = this.contacts.find((x) => x.callid === info.callid);
        break;
      default:
        c = this.contacts.find((x) => x.contact === uri);
    }
    if (c === undefined) return { kind: 'none' };
    if (opts.mode === CONTACT_CALLID || c.callid === info.callid) {
      if (info.cseq < c.cseq) return { kind: 'out-of-order', contact: c };
      if (info.cseq === c.cseq) {
        return c.lastModified + opts.cseqDelay > now ? { kind: 'retransmission', contact: c } : { kind: 'out-of-order', contact: c };
      }
    }
    return { kind: 'found', contact: c };
  }
}

/** "<urn:uuid:…>" and "urn:uuid:…" name the same instance. */
export function unbracket(s: string): string {
  return s.length > 2 && s.startsWith('<') && s.endsWith('>') ? s.slice(1, -1) : s;
}
