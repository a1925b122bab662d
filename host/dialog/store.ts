/**
 * The dialogs of one runtime (Kamailio's dialog hash table) and their profiles: found by
 * h_entry/h_id (the rr `did` cookie), or by Call-ID and tags. Bounded: past `max` dialogs a new
 * one is refused (the script's dlg_manage answers -1), so a flood of INVITEs cannot grow it
 * without limit. Timers are one per dialog, unref'd, and run through the error boundary.
 */
import type { ErrorBoundary } from '../boundary.js';
import { fnv1a } from '../sip/hash.js';
import { Dialog, DLG_DELETED, type Leg } from './dialog.js';

const MAX_TIMER_MS = 0x7fffffff;

export interface NewDialog {
  readonly callId: string;
  readonly fromUri: string;
  readonly toUri: string;
  readonly reqUri: string;
  readonly caller: Leg;
  readonly timeout: number;
}

interface Profile {
  readonly withValue: boolean;
  /** value ('' without values) → the dialogs in it */
  readonly members: Map<string, Set<Dialog>>;
}

export class DialogStore {
  private readonly byKey = new Map<string, Dialog>();
  private readonly byCallId = new Map<string, Dialog[]>();
  private readonly profiles = new Map<string, Profile>();
  private nextId = 1;

  constructor(
    readonly max: number,
    private readonly hashSize: number,
    private readonly boundary: ErrorBoundary,
    private readonly onExpire: (d: Dialog) => void,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  /** A new dialog, or null when the store holds `max` already. */
  create(n: NewDialog): Dialog | null {
    if (this.byKey.size >= this.max) return null;
    const hEntry = fnv1a(n.callId) % this.hashSize;
    const hId = this.nextId;
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    const d = new Dialog(hEntry, hId, n.callId, n.fromUri, n.toUri, n.reqUri, n.caller, n.timeout);
    this.byKey.set(d.key, d);
    const list = this.byCallId.get(n.callId);
    if (list === undefined) this.byCallId.set(n.callId, [d]);
    else list.push(d);
    return d;
  }

  get(hEntry: number, hId: number): Dialog | null {
    return this.byKey.get(`${String(hEntry)}:${String(hId)}`) ?? null;
  }

  /** By the rr cookie "h_entry.h_id" (hex); null when malformed or unknown. */
  byDid(did: string): Dialog | null {
    const m = /^([0-9a-f]{1,8})\.([0-9a-f]{1,8})$/i.exec(did);
    if (m === null) return null;
    return this.get(parseInt(m[1] ?? '', 16), parseInt(m[2] ?? '', 16));
  }

  /** By Call-ID and tags, either direction; an empty to-tag matches a dialog still without one. */
  find(callId: string, ftag: string, ttag: string): Dialog | null {
    for (const d of this.byCallId.get(callId) ?? []) if (d.active && d.matches(callId, ftag, ttag)) return d;
    return null;
  }

  all(): IterableIterator<Dialog> {
    return this.byKey.values();
  }

  /** Arm (or re-arm) the dialog's timer for `seconds`. */
  arm(d: Dialog, seconds: number): void {
    d.expiresAt = Date.now() + seconds * 1000;
    this.schedule(d);
  }

  /** Node's timers hold at most 2^31-1 ms (~24.8 days): a longer lifetime is waited for in steps. */
  private schedule(d: Dialog): void {
    if (d.timer !== null) clearTimeout(d.timer);
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, d.expiresAt - Date.now()));
    d.timer = this.boundary.timeout('tm-timer', wait, this.fire, d);
  }

  private readonly fire = (d: Dialog): void => {
    d.timer = null;
    if (d.expiresAt - Date.now() > 0) this.schedule(d);
    else this.onExpire(d);
  };

  /** Forget it: out of every profile and index, its timer stopped, state 5. */
  remove(d: Dialog): void {
    if (d.timer !== null) clearTimeout(d.timer);
    d.timer = null;
    d.expiresAt = 0;
    d.state = DLG_DELETED;
    if (d.endTs === 0) d.endTs = Math.floor(Date.now() / 1000);
    this.leaveProfiles(d);
    if (this.byKey.get(d.key) === d) this.byKey.delete(d.key);
    const list = this.byCallId.get(d.callId);
    if (list !== undefined) {
      const rest = list.filter((x) => x !== d);
      if (rest.length === 0) this.byCallId.delete(d.callId);
      else this.byCallId.set(d.callId, rest);
    }
  }

  close(): void {
    for (const d of this.byKey.values()) if (d.timer !== null) clearTimeout(d.timer);
    this.byKey.clear();
    this.byCallId.clear();
  }

  // ---- profiles ----

  /** Out of every profile (a BYE: Kamailio takes it out at once, before the dialog is freed). */
  leaveProfiles(d: Dialog): void {
    for (const [name, values] of d.profiles) for (const v of values) this.unlink(name, v, d);
    d.profiles.clear();
  }

  declareProfile(name: string, withValue: boolean): void {
    this.profiles.set(name, { withValue, members: new Map() });
  }

  /** undefined: no such profile; else whether it takes values */
  profileTakesValue(name: string): boolean | undefined {
    return this.profiles.get(name)?.withValue;
  }

  profileNames(): string[] {
    return [...this.profiles.keys()];
  }

  addToProfile(d: Dialog, name: string, value: string): void {
    const p = this.profiles.get(name);
    if (p === undefined) return;
    const v = p.withValue ? value : '';
    let set = d.profiles.get(name);
    if (set === undefined) d.profiles.set(name, (set = new Set()));
    if (set.has(v)) return;
    set.add(v);
    let members = p.members.get(v);
    if (members === undefined) p.members.set(v, (members = new Set()));
    members.add(d);
  }

  /** false when the dialog was not in it (with that value, when one is given) */
  removeFromProfile(d: Dialog, name: string, value: string): boolean {
    const set = d.profiles.get(name);
    if (set === undefined) return false;
    const gone = value === '' ? [...set] : set.has(value) ? [value] : [];
    for (const v of gone) {
      set.delete(v);
      this.unlink(name, v, d);
    }
    if (set.size === 0) d.profiles.delete(name);
    return gone.length > 0;
  }

  isInProfile(d: Dialog, name: string, value: string): boolean {
    const set = d.profiles.get(name);
    if (set === undefined) return false;
    return value === '' || set.has(value);
  }

  /** Dialogs in the profile (with that value, when one is given and the profile takes values). */
  profileSize(name: string, value: string): number {
    const p = this.profiles.get(name);
    if (p === undefined) return 0;
    if (p.withValue && value !== '') return p.members.get(value)?.size ?? 0;
    const all = new Set<Dialog>();
    for (const m of p.members.values()) for (const d of m) all.add(d);
    return all.size;
  }

  /** The dialogs in a profile (with that value, when one is given). */
  profileMembers(name: string, value: string): Dialog[] {
    const p = this.profiles.get(name);
    if (p === undefined) return [];
    if (value !== '' && p.withValue) return [...(p.members.get(value) ?? [])];
    const all = new Set<Dialog>();
    for (const m of p.members.values()) for (const d of m) all.add(d);
    return [...all];
  }

  private unlink(name: string, value: string, d: Dialog): void {
    const members = this.profiles.get(name)?.members.get(value);
    if (members === undefined) return;
    members.delete(d);
    if (members.size === 0) this.profiles.get(name)?.members.delete(value);
  }
}
