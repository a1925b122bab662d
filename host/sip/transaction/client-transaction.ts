/**
 * One branch of a relayed request: an RFC 3261 §17.1 client transaction. INVITE (§17.1.1):
 * Timer A retransmits over UDP until a provisional reply, the final-response timer (Timer B,
 * then Kamailio's fr_inv_timer once a provisional came, i.e. Timer C of §16.6) gives 408, a
 * 300-699 reply is ACKed hop by hop (§17.1.1.3) and the ACK re-sent for each retransmission of
 * it during Timer D; a 2xx ends the transaction (its ACK is end to end, §13.2.2.4). Non-INVITE
 * (§17.1.2): Timer E retransmits (at T2 once a provisional came), the final-response timer is
 * Timer F, Timer K absorbs retransmitted finals. CANCEL (§9.1) is sent only once a provisional
 * reply came; before that the branch is marked 487 at once and the CANCEL waits for one.
 *
 * Timers D and K last `wt_timer` (Kamailio's wait timer) instead of RFC 3261's 32 s / T4; over
 * TCP they are 0. A branch's outcome for the best-reply choice (§16.7) is `finalCode`.
 */
import type { HeaderEdits, Source } from '../types.js';
import { parseSipMessage, type SipMessage } from '../message.js';
import type { SipConnection, SipSocket } from '../socket.js';
import { buildAck, buildCancel } from './messages.js';
import { notifyWire } from './tm-settings.js';
import type { ServerTransaction } from './server-transaction.js';

type ClientState = 'calling' | 'proceeding' | 'completed' | 'terminated';

function clientTimer(ct: ClientTransaction): void {
  ct.onTimer();
}

function cancelTimer(ct: ClientTransaction): void {
  ct.onCancelTimer();
}

export class ClientTransaction {
  readonly method: string;
  readonly isInvite: boolean;
  state: ClientState = 'calling';
  /** a provisional reply came (a CANCEL may be sent, §9.1) */
  provisional = false;
  /** the branch's outcome for the best-reply choice; 0 while it has none */
  finalCode = 0;
  finalReason = '';
  /** the final reply received, null when the outcome was decided here (408, 478, 487) */
  finalReply: SipMessage | null = null;
  /** where the reply being handled came from (the reply route's $si, nathelper's source) */
  replySrc: Source | null = null;
  /** the scripts' edits for relaying finalReply upstream */
  finalEdits: HeaderEdits | null = null;
  /** the outcome was decided here, not by a reply; a later reply is then only ACKed */
  localFinal = false;
  /** the branch flags it was sent with; its reply and branch-failure routes see (and change) them */
  bflags = 0;
  /** a reply came from the network (t_branch_replied, t_any_replied: Kamailio's F_RB_REPLIED) */
  replied = false;
  /** the status of the last reply received, 0 when none (t_grep_status) */
  lastReceived = 0;
  /** the final-response timer decided it (t_branch_timeout, t_any_timeout: F_RB_TIMEOUT) */
  timedOut = false;
  private request: Buffer | null;
  private sentParsed: SipMessage | null = null;
  private ack: Buffer | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** current retransmission interval, 0 when not retransmitting */
  private interval = 0;
  private nextRetransmit = 0;
  private deadline = 0;
  private cancelState: 'none' | 'pending' | 'sent' | 'done' = 'none';
  private cancelBuf: Buffer | null = null;
  private cancelTimer: NodeJS.Timeout | null = null;
  private cancelInterval = 0;
  private cancelDeadline = 0;

  constructor(
    readonly server: ServerTransaction,
    /** $T_branch_idx */
    readonly index: number,
    /** our Via branch: how replies find this transaction (§17.1.3) */
    readonly branch: string,
    request: Buffer | null,
    private readonly socket: SipSocket | null,
    private readonly ip: string,
    private readonly port: number,
    /** SEND_NO_CONNECT / SEND_CLOSE for everything this branch sends (set_forward_close & co.) */
    private readonly sendFlags = 0,
  ) {
    this.method = server.method;
    this.isInvite = server.isInvite;
    this.request = request;
  }

  /** A branch that never went out (no address for its host name): decided here with this code. */
  static failed(server: ServerTransaction, index: number, code: number, reason: string): ClientTransaction {
    const ct = new ClientTransaction(server, index, '', null, null, '', 0);
    ct.state = 'terminated';
    ct.localFinal = true;
    ct.finalCode = code;
    ct.finalReason = reason;
    return ct;
  }

  private get reliable(): boolean {
    return this.socket?.proto === 'tcp';
  }

  private get boundary(): ServerTransaction['layer']['host']['boundary'] {
    return this.server.layer.host.boundary;
  }

  private get timers(): ServerTransaction['layer']['timers'] {
    return this.server.layer.timers;
  }

  /** Send the request and start Timer A/E (UDP) and the final-response timer. */
  start(frMs: number): void {
    if (this.request !== null) {
      this.send(this.request);
      this.tellWire(this.request, true);
    }
    const now = Date.now();
    if (!this.reliable) {
      this.interval = this.timers.t1;
      this.nextRetransmit = now + this.interval;
    }
    this.deadline = now + frMs;
    this.schedule(now);
  }

  /** A reply whose top Via carries our branch and whose CSeq method is ours. */
  receive(msg: SipMessage, src: Source, conn: SipConnection | null, socket: SipSocket): void {
    const code = msg.status;
    if (this.state === 'terminated') return;
    if (this.state === 'completed') {
      // a retransmitted final: our ACK was lost (Timer D absorbs it, re-sending the ACK)
      if (this.isInvite && code >= 300 && this.ack !== null) this.send(this.ack);
      return;
    }
    this.replied = true;
    this.lastReceived = code;
    if (this.server.settings?.wire != null) {
      notifyWire(this.server.settings, { data: msg.raw, isRequest: false, proto: src.proto, srcIp: src.ip, srcPort: src.port, dstIp: src.localIp, dstPort: src.localPort });
    }
    const core = this.server.layer.host.runCoreReplyRoute(msg, src, conn, socket);
    if (core === null) return;
    this.replySrc = src;
    if (code < 200) this.onProvisional(msg, core.hasHeaderEdits ? core.headerEdits : null);
    else this.onFinal(msg, core.hasHeaderEdits ? core.headerEdits : null);
  }

  private onProvisional(msg: SipMessage, coreEdits: HeaderEdits | null): void {
    const now = Date.now();
    const first = !this.provisional;
    this.provisional = true;
    if (this.state === 'calling') this.state = 'proceeding';
    if (this.isInvite) {
      this.interval = 0;
      if (first && !this.localFinal) this.deadline = now + this.server.frInvMs();
    } else if (this.interval > 0) {
      this.interval = this.timers.t2;
      this.nextRetransmit = now + this.interval;
    }
    this.schedule(now);
    if (this.cancelState === 'pending') this.sendCancel();
    if (!this.localFinal) this.server.onBranchProvisional(this, msg, coreEdits);
  }

  private onFinal(msg: SipMessage, coreEdits: HeaderEdits | null): void {
    const code = msg.status;
    this.stopCancel();
    if (this.isInvite && code >= 300) {
      this.ack = buildAck(this.sent(), msg);
      this.send(this.ack);
    }
    if (this.isInvite && code < 300) {
      this.terminate();
    } else {
      this.state = 'completed';
      this.interval = 0;
      if (this.reliable || this.timers.wait === 0) this.terminate();
      else {
        this.deadline = Date.now() + this.timers.wait;
        this.schedule(Date.now());
      }
    }
    if (this.localFinal) {
      // decided already (timeout, cancel): only a 2xx still matters, and it goes upstream (§16.7 step 10)
      if (this.isInvite && code < 300) this.server.forward2xx(msg, coreEdits);
      return;
    }
    this.finalCode = code;
    this.finalReason = msg.reason;
    this.finalReply = msg;
    this.server.onBranchFinal(this, coreEdits);
  }

  /** A reply to the CANCEL we sent for this branch: stop retransmitting it. */
  onCancelReply(msg: SipMessage): void {
    if (msg.status >= 200) this.stopCancel();
  }

  /**
   * Cancel this branch (§9.1, §16.10): CANCEL now when a provisional came; otherwise mark it
   * 487 at once and send the CANCEL if a provisional still comes.
   */
  cancel(): void {
    if (!this.isInvite || this.cancelState !== 'none' || this.state === 'completed' || this.state === 'terminated') return;
    if (this.provisional) {
      this.sendCancel();
      return;
    }
    this.cancelState = 'pending';
    this.interval = 0;
    if (this.finalCode === 0) {
      this.localFinal = true;
      this.finalCode = 487;
      this.finalReason = 'Request Terminated';
    }
    this.schedule(Date.now());
  }

  /** true while the branch has no outcome */
  get pending(): boolean {
    return this.finalCode === 0;
  }

  onTimer(): void {
    this.timer = null;
    const now = Date.now();
    if (this.state === 'terminated') return;
    if (this.state === 'completed') {
      this.terminate();
      return;
    }
    if (now + 1 >= this.deadline) {
      this.onDeadline(now);
      return;
    }
    if (this.interval > 0 && now + 1 >= this.nextRetransmit && this.request !== null) {
      this.send(this.request);
      this.server.layer.c.retransmissions.value++;
      this.interval = Math.min(this.interval * 2, this.timers.t2);
      this.nextRetransmit = now + this.interval;
    }
    this.schedule(now);
  }

  /** The final-response timer fired (Timer B/C/F): the branch is 408 (§16.7 step 2 / §16.8). */
  private onDeadline(now: number): void {
    if (this.localFinal) {
      // waited long enough for the final reply a CANCEL should have brought
      this.terminate();
      return;
    }
    this.server.layer.c.timeouts.value++;
    this.interval = 0;
    this.localFinal = true;
    this.timedOut = true;
    this.finalCode = 408;
    this.finalReason = 'Request Timeout';
    if (this.isInvite && this.provisional && this.cancelState === 'none') this.sendCancel();
    if (this.cancelState === 'sent') {
      // the 487 the CANCEL brings must still be ACKed
      this.deadline = now + this.server.frMs();
      this.schedule(now);
    } else {
      this.terminate();
    }
    this.server.onBranchFinal(this, null);
  }

  private sendCancel(): void {
    this.cancelState = 'sent';
    this.cancelBuf = buildCancel(this.sent());
    this.send(this.cancelBuf);
    this.tellWire(this.cancelBuf, true);
    if (this.reliable) return;
    const now = Date.now();
    this.cancelInterval = this.timers.t1;
    this.cancelDeadline = now + this.server.frMs();
    this.cancelTimer = this.boundary.timeout('tm-timer', this.cancelInterval, cancelTimer, this);
  }

  onCancelTimer(): void {
    this.cancelTimer = null;
    if (this.cancelState !== 'sent' || this.cancelBuf === null) return;
    const now = Date.now();
    if (now + 1 >= this.cancelDeadline) return;
    this.send(this.cancelBuf);
    this.server.layer.c.retransmissions.value++;
    this.cancelInterval = Math.min(this.cancelInterval * 2, this.timers.t2);
    this.cancelTimer = this.boundary.timeout('tm-timer', Math.min(this.cancelInterval, this.cancelDeadline - now), cancelTimer, this);
  }

  private stopCancel(): void {
    if (this.cancelTimer !== null) clearTimeout(this.cancelTimer);
    this.cancelTimer = null;
    if (this.cancelState === 'sent') this.cancelState = 'done';
    this.cancelBuf = null;
  }

  private schedule(now: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    let at = this.deadline;
    if (this.interval > 0 && this.nextRetransmit < at) at = this.nextRetransmit;
    this.timer = this.boundary.timeout('tm-timer', at - now, clientTimer, this);
  }

  /** The Request-URI this branch was sent to (uac_auth answers for it); null when it never went out. */
  sentUri(): string | null {
    return this.request === null ? null : this.sent().ruri;
  }

  /** The request as sent, parsed when an ACK or CANCEL must be built from it. */
  private sent(): SipMessage {
    if (this.sentParsed === null) {
      if (this.request === null) throw new Error('branch has no request');
      this.sentParsed = parseSipMessage(this.request, { maxMessageBytes: this.request.length });
    }
    return this.sentParsed;
  }

  /** a first send (not a retransmission) for the wire observers (siptrace) */
  private tellWire(data: Buffer, isRequest: boolean): void {
    const sock = this.socket;
    if (sock === null || this.server.settings?.wire == null) return;
    notifyWire(this.server.settings, { data, isRequest, proto: sock.proto, srcIp: sock.localIp, srcPort: sock.localPort, dstIp: this.ip, dstPort: this.port });
  }

  private send(data: Buffer): void {
    this.socket?.send(data, this.ip, this.port, this.sendFlags);
  }

  terminate(): void {
    if (this.state === 'terminated' && this.timer === null) return;
    this.state = 'terminated';
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.stopCancel();
    this.request = null;
    this.sentParsed = null;
    this.ack = null;
    if (this.branch !== '') this.server.layer.removeClient(this);
  }
}
