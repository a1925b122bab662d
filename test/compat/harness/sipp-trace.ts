/**
 * sipp as a compat peer: a scenario run with `-trace_msg -message_file`, and the messages it
 * received read back from that file, to be compared like a Peer's log. Scenarios for compat use
 * fixed tags and branches starting "peer" and `-cid_str` for the Call-ID, so both runs of a case
 * send the same bytes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import dgram from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSipMessage, type SipMessage } from '../../../host/sip/message.js';
import { runSipp, startSipp, type SippResult } from '../../helpers/sipp.js';
import { until } from '../../helpers/until.js';

/** Every message sipp logged as received, in order; sipp writes "… message received [N] bytes :\n\n" then the N bytes. */
export function parseSippMessages(text: string): SipMessage[] {
  const out: SipMessage[] = [];
  const head = /message received \[(\d+)\] bytes :\n\n/g;
  for (let m = head.exec(text); m !== null; m = head.exec(text)) {
    const start = m.index + m[0].length;
    out.push(parseSipMessage(Buffer.from(text.slice(start, start + Number(m[1])), 'latin1')));
  }
  return out;
}

export interface SippTraced extends SippResult {
  received: SipMessage[];
}

/** sipp writes its message log, and its error log when there are errors, into the run's directory, not the working one. */
function traceArgs(dir: string): { args: string[]; file: string } {
  const file = join(dir, 'messages.log');
  return { args: ['-trace_msg', '-message_file', file, '-trace_err', '-error_file', join(dir, 'errors.log')], file };
}

function collect(r: SippResult, file: string, dir: string): SippTraced {
  let text = '';
  try {
    text = readFileSync(file, 'latin1');
  } catch {
    // sipp wrote nothing: no message received
  }
  rmSync(dir, { recursive: true, force: true });
  return { ...r, received: parseSippMessages(text) };
}

/** Run a sipp (a UAC) to its end; what it received comes back with its exit code. */
export async function runSippTraced(args: string[], timeoutMs = 20_000): Promise<SippTraced> {
  const dir = mkdtempSync(join(tmpdir(), 'kh-compat-sipp-'));
  const t = traceArgs(dir);
  const r = await runSipp([...args, ...t.args], timeoutMs);
  return collect(r, t.file, dir);
}

/** True while something holds this UDP port on 127.0.0.1. */
async function udpPortTaken(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => { resolve(true); });
    s.bind(port, '127.0.0.1', () => {
      s.close();
      resolve(false);
    });
  });
}

/**
 * Start a sipp in the background (a UAS on `port`, which must be among `args` as -p) and wait
 * until it holds its port, so that the first request relayed to it is not lost. `done` gives
 * what it received once it exits; `stop()` ends it early.
 */
export async function startSippTraced(args: string[], port: number): Promise<{ done: Promise<SippTraced>; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'kh-compat-sipp-'));
  const t = traceArgs(dir);
  const s = startSipp([...args, ...t.args]);
  const state = { exited: false };
  const done = s.done.then((r) => {
    state.exited = true;
    return collect(r, t.file, dir);
  });
  try {
    await until(async () => state.exited || (await udpPortTaken(port)), 5000, `sipp to listen on ${String(port)}`);
  } catch (e) {
    s.stop();
    throw e;
  }
  if (state.exited) throw new Error(`compat: sipp exited at once: ${(await done).output}`);
  return { done, stop: s.stop };
}
