/**
 * The compat runner. A suite is one script (Lua, and JS when app_jsdt runs it too), the modules
 * it needs with their parameters, the peers, and cases. Per engine it starts one Kamailio and
 * one kemihost for the whole file; each case's flow runs against Kamailio, then against
 * kemihost, with the same peers and the same bytes sent, and what every peer received is
 * rendered through the case's views and compared. Kamailio is the oracle: a flow that cannot
 * complete against Kamailio is a wrong case, and the error says which server it was.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SipMessage } from '../../../host/sip/message.js';
import { ENGINES } from '../../helpers/runtime.js';
import { freePort } from '../../helpers/sipp.js';
import { until } from '../../helpers/until.js';
import { kamailioMissing } from './kamailio.js';
import { modulesToLoad, type ModuleSpec, type ScriptEngine } from './kamailio-cfg.js';
import { Peer } from './peer.js';
import { kamailioWith, kemihostWith, type SipTarget } from './servers.js';
import { renderAll, runInfo, type View } from './view.js';

export interface FlowRun<P extends string> {
  readonly server: SipTarget;
  readonly peers: Readonly<Record<P, Peer>>;
  /** the ports reserved for the suite's `ports` (sipp binds them itself) */
  readonly ports: Readonly<Record<string, number>>;
  /** the same in both runs of a case; peers derive their Call-ID and branches from it */
  readonly label: string;
  /** hand over more messages to compare under `name` (what a sipp received) */
  keep: (name: string, log: readonly SipMessage[]) => void;
}

export interface CompatCase<P extends string> {
  name: string;
  /**
   * Drive the peers (or sipp) through the flow against `run.server`, waiting for what each must
   * receive.
   */
  flow(run: FlowRun<P>): Promise<void> | void;
  /** what is compared, by peer name or by the name of a log the flow kept */
  compare: Readonly<Record<string, View>>;
  /**
   * A deliberate difference, explained in docs/compatibility.md (`doc` names the row). Either
   * kemihost must send what Kamailio sent with every compared line equal to `from` replaced by
   * `to` (the case fails when Kamailio no longer sends such a line), or `expect` turns what
   * Kamailio sent into what kemihost must send, asserting first that Kamailio still differs.
   */
  differs?: Difference;
}

/** What each peer received, as compared: per peer, per message, its lines. */
export type Observed = Record<string, string[][]>;

export interface Difference {
  doc: string;
  replace?: readonly (readonly [from: string, to: string])[];
  expect?: (kamailio: Observed) => Observed;
}

export interface ScriptPair {
  lua: string;
  /** the same logic for app_jsdt (Duktape: ECMAScript 5.1, so `var` and `function`) */
  js?: string;
}

export interface CompatSuite<P extends string> {
  title: string;
  peers: readonly P[];
  /** names of ports to reserve for peers the flows start themselves (sipp) */
  ports?: readonly string[];
  modules: ModuleSpec;
  /** the script, given every peer's and reserved port by name */
  script(ports: Readonly<Record<string, number>>): ScriptPair;
  /** why this suite has no JS run (app_jsdt cannot do it); without it, `script` must give `js` */
  jsUnsupported?: string;
  cases: readonly CompatCase<P>[];
}

/** After a flow: more messages may still come (a stray reply, an extra request). */
const QUIET_MS = 150;
const QUIET_MAX_MS = 3000;

async function quiet(peers: readonly Peer[]): Promise<void> {
  let last = -1;
  let since = Date.now();
  await until(() => {
    const n = peers.reduce((s, p) => s + p.count, 0);
    if (n !== last) {
      last = n;
      since = Date.now();
    }
    return Date.now() - since >= QUIET_MS;
  }, QUIET_MAX_MS, 'the peers to stop receiving');
}

const COMPAT_DOC = fileURLToPath(new URL('../../../docs/compatibility.md', import.meta.url));

/**
 * Each "module: row" of a difference's doc (several joined by "; ") must be a row of that
 * module's table in docs/compatibility.md: a difference that is not written down fails.
 */
function assertDocumented(doc: string): void {
  const text = readFileSync(COMPAT_DOC, 'utf8');
  for (const ref of doc.split('; ')) {
    const colon = ref.indexOf(': ');
    assert.ok(colon > 0, `differs.doc "${ref}" must read "module: row"`);
    const section = text.split(/^## /m).find((sec) => sec.startsWith(`${ref.slice(0, colon)}\n`));
    assert.ok(section?.includes(`\n| ${ref.slice(colon + 2)} |`), `docs/compatibility.md has no row "${ref.slice(colon + 2)}" under "## ${ref.slice(0, colon)}"`);
  }
}

/** What kemihost must send given what Kamailio sent and a case's deliberate difference. */
function withDifference(oracle: Observed, d: Difference): Observed {
  assertDocumented(d.doc);
  if (d.expect !== undefined) return d.expect(oracle);
  const out: Observed = {};
  for (const [name, msgs] of Object.entries(oracle)) out[name] = msgs.map((lines) => [...lines]);
  for (const [from, to] of d.replace ?? []) {
    let seen = 0;
    for (const msgs of Object.values(out)) {
      for (const lines of msgs) {
        lines.forEach((l, i) => {
          if (l !== from) return;
          lines[i] = to;
          seen++;
        });
      }
    }
    assert.ok(seen > 0, `Kamailio no longer sends "${from}": the difference "${d.doc}" is gone; remove it from the case and docs/compatibility.md`);
  }
  return out;
}

type RunOf<P extends string> = Omit<FlowRun<P>, 'keep'>;

async function runOnce<P extends string>(c: CompatCase<P>, r: RunOf<P>): Promise<Observed> {
  const peers = Object.values<Peer>(r.peers);
  for (const p of peers) p.begin(r.server, r.label);
  const kept = new Map<string, readonly SipMessage[]>();
  const run: FlowRun<P> = { ...r, keep: (name, log) => { kept.set(name, log); } };
  try {
    await c.flow(run);
    await quiet(peers);
  } catch (e) {
    run.server.markFailed();
    throw new Error(`${run.server.name}: ${(e as Error).message}\n${run.server.diagnostics()}`, { cause: e });
  }
  const out: Observed = {};
  const info = runInfo(run.server.port);
  for (const [name, view] of Object.entries(c.compare)) {
    const log = (run.peers as Partial<Record<string, Peer>>)[name]?.log() ?? kept.get(name);
    if (log === undefined) throw new Error(`compat: case "${c.name}" compares "${name}", which is neither a peer nor a log its flow kept`);
    out[name] = renderAll(log, view, info);
  }
  return out;
}

function engineSuite<P extends string>(s: CompatSuite<P>, engine: ScriptEngine): void {
  const title = `compat: ${s.title} [${engine}]`;
  const missing = kamailioMissing(engine, modulesToLoad(s.modules, engine));
  if (missing !== null) {
    if (process.env.CI === 'true') {
      test(title, () => { assert.fail(`${missing}; with CI=true the compat suite must run`); });
    } else {
      test(title, { skip: `${missing}: Kamailio is the oracle of these cases` }, () => undefined);
    }
    return;
  }
  describe(title, () => {
    const peers = {} as Record<P, Peer>;
    const ports: Record<string, number> = {};
    let servers: SipTarget[] = [];

    before(async () => {
      for (const name of s.peers) {
        const p = await Peer.open(name);
        peers[name] = p;
        ports[name] = p.port;
      }
      for (const name of s.ports ?? []) ports[name] = await freePort();
      const pair = s.script(ports);
      const source = engine === 'lua' ? pair.lua : pair.js;
      if (source === undefined) throw new Error(`compat: "${s.title}" has no JS script and no jsUnsupported reason`);
      // one after the other: both would compete for the two cores while starting
      servers.push(await kamailioWith(engine, source, s.modules));
      servers.push(await kemihostWith(engine, source, s.modules));
    });

    after(async () => {
      await Promise.all(servers.map((t) => t.stop()));
      servers = [];
      for (const p of Object.values<Peer>(peers)) p.close();
    });

    s.cases.forEach((c, i) => {
      test(c.name, async (t) => {
        const label = `c${String(i + 1)}`;
        const [kam, ours] = servers;
        assert.ok(kam !== undefined && ours !== undefined, 'servers started');
        const oracle = await runOnce(c, { server: kam, peers, ports, label });
        const got = await runOnce(c, { server: ours, peers, ports, label });
        // KEMIHOST_COMPAT_SHOW=1 prints what Kamailio sent, as compared, for writing a new case
        if (process.env.KEMIHOST_COMPAT_SHOW === '1') {
          for (const [peer, msgs] of Object.entries(oracle)) {
            if (msgs.length === 0) t.diagnostic(`${peer}: (nothing)`);
            msgs.forEach((lines, n) => { for (const l of lines) t.diagnostic(`${peer}[${String(n + 1)}] ${l}`); });
          }
        }
        const expected = c.differs === undefined ? oracle : withDifference(oracle, c.differs);
        const note = c.differs === undefined ? '' : ` with the difference "${c.differs.doc}" applied`;
        try {
          assert.deepEqual(got, expected, `what the peers received from kemihost (actual) and from Kamailio (expected${note})`);
        } catch (e) {
          kam.markFailed();
          (e as Error).message += `\n${kam.diagnostics()}`;
          throw e;
        }
      });
    });
  });
}

/** Declare a compat test file: one describe per engine, one test per case. */
export function compatSuite<P extends string>(s: CompatSuite<P>): void {
  for (const engine of ENGINES) {
    if (engine === 'js' && s.jsUnsupported !== undefined) {
      test(`compat: ${s.title} [js]`, { skip: s.jsUnsupported }, () => undefined);
      continue;
    }
    engineSuite(s, engine);
  }
}
