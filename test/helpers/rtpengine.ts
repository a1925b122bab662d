/**
 * A real rtpengine (Debian rtpengine-daemon) for a test: in the foreground, userspace only (no
 * kernel table), no config file, on 127.0.0.1 with ports of its own — the NG listener and,
 * when asked, the legacy rtpproxy-compatible one — and a media port range picked at random so
 * parallel tests do not share one. Ready once it answers an NG ping; stopped by its PID
 * (SIGTERM, then SIGKILL: rtpengine 10.5 can hang on shutdown, see docs/rtpproxy.md).
 *
 * Without the binary a test skips and says why; with CI=true it fails (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

export const RTPENGINE_BIN = '/usr/bin/rtpengine';

export interface RtpengineProcess {
  readonly pid: number;
  /** NG protocol port */
  readonly ngPort: number;
  /** the rtpproxy-compatible port (--listen-udp), 0 when not asked for */
  readonly udpPort: number;
  readonly portMin: number;
  readonly portMax: number;
  /** its stderr so far (the last 64 KiB) */
  log(): string;
  stop(): Promise<void>;
}

/** A UDP port nobody uses right now (bound, read, released). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const port = s.address().port;
  s.close();
  return port;
}

/** Does something answer an NG ping on this port? */
export async function ngPing(port: number, timeoutMs = 200): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  try {
    const got = new Promise<boolean>((resolve) => {
      s.on('message', (m) => { resolve(m.toString().startsWith('ping_probe d6:result4:ponge')); });
      setTimeout(() => { resolve(false); }, timeoutMs);
    });
    s.send('ping_probe d7:command4:pinge', port, '127.0.0.1');
    return await got;
  } finally {
    s.close();
  }
}

export interface RtpengineOptions {
  /** also open the legacy rtpproxy-compatible listener */
  legacy?: boolean;
  /** more command-line options */
  args?: string[];
}

/**
 * Why a media relay test does not run outside CI (with CI=true startRtpengine fails instead):
 * a test that started rtpengine in a `before` hook skips with this when it got none.
 */
export const RTPENGINE_MISSING = `${RTPENGINE_BIN} not installed (Debian package rtpengine-daemon)`;

/** Start rtpengine for test `t` (stopped after it); null when skipped because it is not installed. */
export async function startRtpengine(t: TestContext | null, opts: RtpengineOptions = {}): Promise<RtpengineProcess | null> {
  if (!existsSync(RTPENGINE_BIN)) {
    if (process.env.CI === 'true') assert.fail(`${RTPENGINE_MISSING} (CI=true: the media relay tests need it)`);
    t?.skip(RTPENGINE_MISSING);
    return null;
  }
  const ngPort = await freeUdpPort();
  const udpPort = opts.legacy === true ? await freeUdpPort() : 0;
  const portMin = 20_000 + Math.floor(Math.random() * 200) * 200;
  const portMax = portMin + 199;
  const args = [
    '--config-file=none', '-f', '-E', '--table=-1', '-i', '127.0.0.1',
    `--listen-ng=127.0.0.1:${String(ngPort)}`,
    ...(udpPort > 0 ? [`--listen-udp=127.0.0.1:${String(udpPort)}`] : []),
    `--port-min=${String(portMin)}`, `--port-max=${String(portMax)}`,
    '--delete-delay=0', '--log-level=6', '--num-threads=2',
    ...(opts.args ?? []),
  ];
  const child: ChildProcess = spawn(RTPENGINE_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-65_536); });
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  };
  t?.after(stop);
  const end = Date.now() + 10_000;
  while (!(await ngPing(ngPort))) {
    if (child.exitCode !== null || Date.now() > end) {
      await stop();
      throw new Error(`rtpengine did not start (exit ${String(child.exitCode)}):\n${log}`);
    }
  }
  return { pid: child.pid ?? 0, ngPort, udpPort, portMin, portMax, log: () => log, stop };
}

let listSeq = 0;

/**
 * rtpengine's "list" command over NG: how many calls (sessions) it holds now. Each request has a
 * cookie of its own: rtpengine answers a repeated cookie from its cache ("duplicate").
 */
export async function rtpengineCalls(ngPort: number): Promise<number> {
  const cookie = `list_${String(process.pid)}_${String(++listSeq)}`;
  const s = dgram.createSocket('udp4');
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      s.on('message', (m) => { resolve(m.toString('latin1')); });
      setTimeout(() => { reject(new Error('rtpengine did not answer "list"')); }, 2000);
      s.send(`${cookie} d7:command4:liste`, ngPort, '127.0.0.1');
    });
    const list = /5:callsl(.*)e6:result2:oke$/.exec(answer)?.[1] ?? '';
    return [...list.matchAll(/\d+:/g)].length;
  } finally {
    s.close();
  }
}
