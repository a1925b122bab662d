/**
 * A TCP client that writes the same bytes over and over and never reads what the server
 * answers: the peer that backpressure is for. It writes while the socket takes data and waits
 * for 'drain' otherwise, so its own buffer stays small; it stops at `maxBytes`, at stop(), or
 * when the connection closes. Only once asked does it read (and discard) what is waiting, which
 * is how a test sees that the server closed the connection.
 */
import net from 'node:net';
import { once } from 'node:events';

export class UnreadingPeer {
  /** bytes handed to the socket */
  sent = 0;
  private stopped = false;
  readonly closed: Promise<void>;
  private wake: (() => void) | null = null;

  private constructor(readonly sock: net.Socket) {
    sock.pause();
    sock.on('error', () => undefined);
    this.closed = new Promise((resolve) => sock.once('close', () => { resolve(); }));
    sock.on('drain', () => { this.wake?.(); });
    sock.once('close', () => { this.wake?.(); });
  }

  static async connect(port: number): Promise<UnreadingPeer> {
    const sock = net.connect({ port, host: '127.0.0.1' });
    await once(sock, 'connect');
    return new UnreadingPeer(sock);
  }

  /** Write `chunk` repeatedly, in the background; resolves when it stops (limit, stop(), closed). */
  async flood(chunk: Buffer, maxBytes: number): Promise<void> {
    while (!this.stopped && !this.sock.destroyed && this.sent + chunk.length <= maxBytes) {
      this.sent += chunk.length;
      if (this.sock.write(chunk)) continue;
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = null;
    }
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Read and discard from now on: resolves true when the server has closed the connection. */
  async readUntilClosed(timeoutMs: number): Promise<boolean> {
    this.sock.on('data', () => undefined);
    this.sock.resume();
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<false>((resolve) => { timer = setTimeout(() => { resolve(false); }, timeoutMs); });
    const r = await Promise.race([this.closed.then(() => true), t]);
    clearTimeout(timer);
    return r;
  }

  destroy(): void {
    this.stop();
    this.sock.destroy();
  }
}
