/**
 * A peer that writes to us but does not read what we answer makes the answers pile up in the
 * socket's write buffer, in our memory: 139 MB of SIP requests from a peer that never read grew
 * the process by 206 MB. One guard per connection bounds that: once more than `maxUnsentBytes`
 * wait to be sent (socket.writableLength), reading from the peer stops (so it cannot make us
 * produce more answers), and a peer that takes nothing for `stalledTimeoutMs` is disconnected,
 * which frees its buffers. Reading starts again on 'drain', when the peer caught up.
 *
 * Progress is what node shows: writableLength going down, i.e. a queued write completing. One
 * large write (an HTTP reply body) shows none until it is all taken, so a peer must take a single
 * answer within the timeout; the many small writes of SIP show progress as they go.
 *
 * Used by SIP over TCP, both HTTP listeners (xhttp, control RPC) and the JSON-RPC client.
 */
import type net from 'node:net';
import type { Counter, Stats } from './kemi/stats.js';

export interface BackpressureLimits {
  readonly maxUnsentBytes: number;
  readonly stalledTimeoutMs: number;
}

export interface BackpressureCounters {
  /** times reading from a peer was paused because it was not reading our answers */
  readonly paused: Counter;
  /** connections closed because the peer did not take its answers within the timeout */
  readonly stalledClosed: Counter;
}

/** `<transport>:backpressure_paused` and `<transport>:stalled_closed` */
export function backpressureCounters(stats: Stats, transport: string): BackpressureCounters {
  return { paused: stats.counter(transport, 'backpressure_paused'), stalledClosed: stats.counter(transport, 'stalled_closed') };
}

export interface BackpressureHooks {
  /** stop reading while the peer is behind (a client whose reads do not cause writes says false) */
  readonly pauseReading: boolean;
  /** reading was paused (or would be, with pauseReading false) */
  readonly onPaused?: () => void;
  /** the peer did not catch up in time (after counting); default: destroy the socket */
  readonly onStalled?: () => void;
  /** the peer caught up (after reading was resumed) */
  readonly onRelieved?: () => void;
}

export class Backpressure {
  private timer: NodeJS.Timeout | null = null;
  /** writableLength when last looked at while stalled */
  private unsent = 0;

  constructor(
    private readonly sock: net.Socket,
    private readonly limits: BackpressureLimits,
    private readonly counters: BackpressureCounters,
    private readonly hooks: BackpressureHooks,
  ) {
    sock.on('drain', () => { this.relieve(); });
    sock.once('close', () => { this.clear(); });
  }

  /** paused, waiting for the peer to take what is unsent */
  get stalled(): boolean {
    return this.timer !== null;
  }

  /**
   * Call after writing. 'drain' comes only after a write that returned false (the stream's
   * high-water mark, 16 KiB): below that a bound is not enforced, which the config minimum covers.
   */
  check(): void {
    const s = this.sock;
    if (this.timer !== null || s.destroyed || s.writableLength <= this.limits.maxUnsentBytes || !s.writableNeedDrain) return;
    this.counters.paused.value++;
    if (this.hooks.pauseReading) s.pause();
    this.arm();
    this.hooks.onPaused?.();
  }

  private arm(): void {
    this.unsent = this.sock.writableLength;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.sock.destroyed) return;
      // Some of it was taken: a slow reader, not a stalled one; look again later.
      if (this.sock.writableLength < this.unsent) {
        this.arm();
        return;
      }
      this.counters.stalledClosed.value++;
      if (this.hooks.onStalled === undefined) this.sock.destroy();
      else this.hooks.onStalled();
    }, this.limits.stalledTimeoutMs);
    this.timer.unref();
  }

  private relieve(): void {
    if (this.timer === null) return;
    this.clear();
    if (this.hooks.pauseReading && !this.sock.destroyed) this.sock.resume();
    this.hooks.onRelieved?.();
  }

  private clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
