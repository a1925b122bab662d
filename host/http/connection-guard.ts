/**
 * Backpressure for one HTTP connection. node's HTTP server stops reading a connection whose
 * answers are not taken, but only between TCP segments: every request already in a segment is
 * handed to the handler at once, and one 64 KiB segment holds thousands of pipelined GETs, each
 * of which may produce a large answer that waits in memory for a client that never reads. So:
 * - the requests of a connection run at most MAX_IN_FLIGHT at a time; later ones wait, and
 *   while MAX_IN_FLIGHT wait, reading stops (answers go out in request order anyway, HTTP/1.1);
 * - while more than max_unsent_bytes wait to be taken, no request runs and reading stops
 *   (host/backpressure.ts);
 * - an answer handed to the socket must be taken within stalled_timeout_ms, else the connection
 *   is closed. This catches a client that does not read small answers too: those never pass
 *   the byte bound, since node sends one answer at a time, but they hold the connection forever.
 */
import type net from 'node:net';
import type { ServerResponse } from 'node:http';
import { Backpressure, type BackpressureCounters, type BackpressureLimits } from '../backpressure.js';

/** requests of one connection being handled at once, and waiting their turn, at most */
export const MAX_IN_FLIGHT = 16;

export class ConnectionGuard {
  private readonly waiting: (() => void)[] = [];
  private inFlight = 0;
  private readingPaused = false;
  private readonly bp: Backpressure;

  constructor(
    private readonly sock: net.Socket,
    private readonly limits: BackpressureLimits,
    private readonly counters: BackpressureCounters,
    private readonly onStalled: () => void,
  ) {
    this.bp = new Backpressure(sock, limits, counters, {
      pauseReading: false,
      onPaused: () => { this.updateReading(); },
      // counted by Backpressure
      onStalled: () => { this.close(false); },
      onRelieved: () => { this.flush(); },
    });
    sock.once('close', () => { this.waiting.length = 0; });
  }

  /** Run the handler for one request now, or when the connection may take it. */
  dispatch(res: ServerResponse, run: () => void): void {
    const start = (): void => {
      this.inFlight++;
      let timer: NodeJS.Timeout | null = null;
      res.once('close', () => {
        if (timer !== null) clearTimeout(timer);
        this.inFlight--;
        this.flush();
      });
      // 'prefinish': the whole answer is in the socket; 'finish': the kernel took the last of it.
      // (ServerResponse emits 'prefinish' as node's own http code relies on, undocumented; were
      // it ever missing, the byte bound above would still catch a client behind on large answers.)
      res.once('prefinish', () => {
        this.bp.check();
        timer = setTimeout(() => { this.close(true); }, this.limits.stalledTimeoutMs);
        timer.unref();
      });
      res.once('finish', () => {
        if (timer !== null) clearTimeout(timer);
        timer = null;
      });
      run();
      this.bp.check();
    };
    if (this.blocked) this.waiting.push(start);
    else start();
    this.updateReading();
  }

  private get blocked(): boolean {
    return this.bp.stalled || this.inFlight >= MAX_IN_FLIGHT;
  }

  private flush(): void {
    if (this.sock.destroyed) {
      this.waiting.length = 0;
      return;
    }
    while (!this.blocked) {
      const next = this.waiting.shift();
      if (next === undefined) break;
      next();
    }
    this.updateReading();
  }

  /** Stop reading while the client is behind or enough of its requests wait; else read. */
  private updateReading(): void {
    if (this.sock.destroyed) return;
    if (this.bp.stalled || this.waiting.length >= MAX_IN_FLIGHT) {
      // node's HTTP server resumes a socket on 'drain' by itself: pause again whenever asked
      if (!this.sock.isPaused()) this.sock.pause();
      this.readingPaused = true;
    } else if (this.readingPaused) {
      this.readingPaused = false;
      this.sock.resume();
    }
  }

  private close(count: boolean): void {
    if (this.sock.destroyed) return;
    if (count) this.counters.stalledClosed.value++;
    this.onStalled();
    this.sock.destroy();
  }
}
