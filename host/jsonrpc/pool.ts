/**
 * The configured JSON-RPC servers, by priority group (jsonrpc-c's `servers` parameter): the
 * group with the highest priority number that has a server able to take a request gets it;
 * inside a group the servers take turns (round robin). A server that is down is skipped, and is
 * used again as soon as its reconnect succeeds — there is no separate "recovered" state.
 */
import { Connection, type ConnectionEvents, type ConnectionSettings, type Done } from './connection.js';
import { notificationText, requestText } from './message.js';

export interface ServerSpec {
  readonly host: string;
  readonly port: number;
  readonly priority: number;
}

/** jsonrpc-c's ids are ints; wrap well before 2^31 so any server can hold them in an int32 */
const MAX_ID = 2_147_483_647;

/**
 * "host1:port1,priority1 host2:port2,priority2": the seed's format. Throws an Error naming the
 * entry that is wrong, for the config validation message.
 */
export function parseServers(s: string): ServerSpec[] {
  const out: ServerSpec[] = [];
  for (const entry of s.trim().split(/\s+/)) {
    if (entry === '') continue;
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5}),(-?\d{1,9})$/.exec(entry);
    const port = Number(m?.[2]);
    if (m === null || port < 1 || port > 65535) {
      throw new Error(`bad server "${entry}": expected host:port,priority (port 1..65535, priority an integer)`);
    }
    out.push({ host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port, priority: Number(m[3]) });
  }
  return out;
}

interface Group {
  readonly priority: number;
  readonly servers: Connection[];
  next: number;
}

export class Pool {
  readonly connections: readonly Connection[];
  private readonly groups: Group[];
  private nextId = 0;

  constructor(specs: readonly ServerSpec[], cfg: ConnectionSettings, events: ConnectionEvents) {
    const byPriority = new Map<number, Group>();
    const all: Connection[] = [];
    for (const s of specs) {
      const c = new Connection(s.host, s.port, cfg, events);
      all.push(c);
      let g = byPriority.get(s.priority);
      if (g === undefined) {
        g = { priority: s.priority, servers: [], next: 0 };
        byPriority.set(s.priority, g);
      }
      g.servers.push(c);
    }
    this.connections = all;
    this.groups = [...byPriority.values()].sort((a, b) => b.priority - a.priority);
  }

  start(): void {
    for (const c of this.connections) c.connect();
  }

  /** The next server able to take a request (or, for a notification, any connected one). */
  private pick(notification: boolean): Connection | null {
    for (const g of this.groups) {
      const n = g.servers.length;
      for (let k = 0; k < n; k++) {
        const i = (g.next + k) % n;
        const c = g.servers[i];
        if (c !== undefined && (notification ? c.writable : c.canTake)) {
          g.next = (i + 1) % n;
          return c;
        }
      }
    }
    return null;
  }

  /** Send a request; `done` runs later, exactly once. null when no server can take it now. */
  request(method: string, params: string, timeoutMs: number, done: Done): Connection | null {
    const c = this.pick(false);
    if (c === null) return null;
    this.nextId = this.nextId >= MAX_ID ? 1 : this.nextId + 1;
    const id = this.nextId;
    return c.request(id, requestText(id, method, params), timeoutMs, done) ? c : null;
  }

  notify(method: string, params: string): Connection | null {
    const c = this.pick(true);
    if (c === null) return null;
    return c.notify(notificationText(method, params)) ? c : null;
  }

  close(): void {
    for (const c of this.connections) c.close();
  }
}
