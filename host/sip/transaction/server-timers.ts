/**
 * A server transaction's timers once it has a final reply (RFC 3261 §17.2.1, §17.2.2, RFC 6026):
 * Timer G re-sends a final over UDP (T1 doubling up to T2) until the ACK, Timer H (64*T1) gives
 * up, Timer I / J (Kamailio's wt_timer) absorb retransmissions; a 2xx of ours is re-sent the
 * same way until its ACK; a relayed 2xx keeps the transaction while a branch may bring another.
 * In Proceeding the timer is the final-response timer of a transaction nobody answered.
 */
import { notifyReply } from './tm-settings.js';
import type { ServerTransaction } from './server-transaction.js';

/** Timers may fire a little before the ms they were set for (both clocks round). */
const SLACK_MS = 2;

export function onServerTimer(s: ServerTransaction): void {
  s.timer = null;
  const now = Date.now();
  const t = s.layer.timers;
  switch (s.state) {
    case 'proceeding':
      s.onIdleExpired();
      return;
    case 'completed':
    case 'accepted':
      if (s.localAccepted || (s.state === 'completed' && s.isInvite)) {
        // Timer G / 2xx retransmission until the ACK; Timer H / 64*T1 ends it
        if (now + SLACK_MS >= s.deadline) {
          s.terminate();
          return;
        }
        if (s.interval > 0 && s.lastReply !== null) {
          s.sendUpstream(s.lastReply, true, true);
          s.layer.c.retransmissions.value++;
          s.interval = Math.min(s.interval * 2, t.t2);
          s.arm(Math.min(s.interval, s.deadline - now));
        } else {
          s.arm(s.deadline - now);
        }
        return;
      }
      // a relayed 2xx: stay while a branch may still bring another 2xx
      if (s.state === 'accepted' && s.hasPending()) {
        s.arm(Math.max(t.wait, t.t1));
        return;
      }
      s.terminate();
      return;
    case 'confirmed':
      s.terminate();
      return;
    case 'terminated':
      return;
  }
}

/** A final reply went upstream (ours or relayed): Completed / Accepted with their timers. */
export function enterFinal(s: ServerTransaction, code: number, reason: string, buf: Buffer, local: boolean): void {
  s.lastCode = code;
  s.lastReason = reason;
  s.lastReply = buf;
  s.unsuspend();
  s.clearTimer();
  // a relayed 2xx was told in relay2xx, with the reply it came from
  if (code >= 300 || local) notifyReply(s.settings, code, null);
  const t = s.layer.timers;
  const now = Date.now();
  if (s.isInvite && code < 300) {
    s.state = 'accepted';
    if (local) {
      s.localAccepted = true;
      s.layer.indexAck(s);
      s.deadline = now + 64 * t.t1;
      s.interval = s.reliable ? 0 : t.t1;
      s.arm(s.reliable ? 64 * t.t1 : t.t1);
    } else {
      // the UAS re-sends its own 2xx; nothing to keep. Indexed so t_check_trans finds the ACK.
      s.lastReply = null;
      s.layer.indexAck(s);
      s.arm(t.wait);
    }
  } else if (s.isInvite) {
    s.state = 'completed';
    s.deadline = now + 64 * t.t1;
    s.interval = s.reliable ? 0 : t.t1;
    s.arm(s.reliable ? 64 * t.t1 : t.t1);
  } else {
    s.state = 'completed';
    if (s.reliable || t.wait === 0) s.terminate();
    else s.arm(t.wait);
  }
}
