/**
 * `kemihost check`, the porting tool: compile a script (nothing of it runs), then read it
 * (scan.ts) against the registry — the KSR functions kemihost has, their signatures, the
 * pseudo-variables, the functions the script defines — and report one finding per problem:
 *
 *   error    the script cannot work as written: a syntax error, no ksr_request_route, a KSR
 *            function that does not exist, a wrong argument count, a literal of the wrong type,
 *            a route named in a call that the script does not define
 *   warning  it runs, but something is off: a presence test (`if not KSR.auth then`) of a module
 *            kemihost does not have, which silently turns that feature off; an unknown
 *            pseudo-variable name in a literal
 */
import { isKemiError } from '../errors.js';
import { REQUIRED_CALLBACKS } from '../engines/engine.js';
import type { BoundFunction, KemiRegistry } from '../kemi/registry.js';
import { KAMAILIO_KEMI } from './kamailio-api.js';
import { tokenize, type Language } from './lexer.js';
import { scanScript, type Arg, type KsrUse } from './scan.js';

export interface Finding {
  readonly line: number;
  readonly level: 'error' | 'warning';
  readonly text: string;
}

export interface CheckResult {
  readonly findings: readonly Finding[];
  /** the callbacks the host calls that the script defines, in the order the host knows them */
  readonly callbacks: readonly string[];
}

const HOST_CALLBACKS = ['ksr_request_route', 'ksr_reply_route', 'ksr_onsend_route', 'ksr_branch_route', 'ksr_failure_route', 'ksr_xhttp_event'];
const INT_TEXT = /^\s*[-+]?\d+\s*$/;

function inKamailio(path: readonly string[]): boolean {
  const [a = '', b] = path;
  if (b === undefined) return KAMAILIO_KEMI[a] !== undefined || (KAMAILIO_KEMI[''] ?? []).includes(a);
  return (KAMAILIO_KEMI[a] ?? []).includes(b);
}

function argCount(fn: BoundFunction, args: readonly Arg[]): string | null {
  const want = fn.params.length;
  // a missing trailing xval is null, as invoke passes it
  let min = want;
  while (min > 0 && fn.params[min - 1] === 'xval') min--;
  if (args.length >= min && args.length <= want) return null;
  const sig = fn.params.length === 0 ? 'no arguments' : `${String(want)} argument${want === 1 ? '' : 's'} (${fn.params.join(', ')})`;
  return `${fn.fullName} takes ${sig}, given ${String(args.length)}`;
}

function argTypes(fn: BoundFunction, args: readonly Arg[]): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    const type = fn.params[i];
    if ((type === 'int' || type === 'long') && a.kind === 'string' && !INT_TEXT.test(a.value)) {
      out.push(`argument #${String(i + 1)} to ${fn.fullName} must be an ${type}, given the string "${a.value}"`);
    }
  });
  return out;
}

/** Missing names whose porting answer is not "wait for it" (met in public scripts). */
const HINTS: Readonly<Record<string, string>> = {
  'KSR.route': 'KSR.route runs a route block of a native kamailio.cfg, and kemihost has no native config: call the script\'s own function for that route instead',
};

/** Why a literal pseudo-variable name does not resolve: the cases seen in public scripts first. */
function unknownPv(name: string): string {
  if (/^\$\(.*\{.*\}\)$/s.test(name)) {
    return `"${name}" has a transformation; kemihost has no general transformations yet (docs/pv.md): it reads as $null`;
  }
  if (!name.startsWith('$')) return `"${name}" does not start with $, so it is not a pseudo-variable (it reads as $null)`;
  return `"${name}" is not a pseudo-variable kemihost knows (it reads as $null)`;
}

class Checker {
  readonly findings: Finding[] = [];
  private readonly modules: Set<string>;

  constructor(
    private readonly reg: KemiRegistry,
    private readonly defined: ReadonlyMap<string, number>,
    private readonly lang: Language,
  ) {
    this.modules = new Set(reg.modules.map((m) => m.name));
  }

  add(line: number, level: Finding['level'], text: string): void {
    this.findings.push({ line, level, text });
  }

  use(u: KsrUse): void {
    const name = `KSR.${u.path.join('.')}`;
    const fn = this.reg.lookup(name);
    if (u.args === null) {
      // a value: a presence test (`if KSR.auth then`), a module kept in a local, a function passed on
      if (fn !== undefined || (u.path.length === 1 && this.modules.has(u.path[0] ?? ''))) return;
      const what = u.path.length === 1 ? `module ${name}` : name;
      this.add(u.line, 'warning', inKamailio(u.path)
        ? `${name} is tested or used as a value, but kemihost does not have ${what}: it reads as nil/undefined, so what depends on it is turned off`
        : `${name} is not a Kamailio 5.6 KEMI name: it reads as nil/undefined`);
      return;
    }
    if (fn === undefined) {
      const [first = ''] = u.path;
      const hint = HINTS[name];
      if (hint !== undefined) {
        this.add(u.line, 'error', hint);
        return;
      }
      if (u.path.length === 1 && (this.modules.has(first) || KAMAILIO_KEMI[first] !== undefined) && !(KAMAILIO_KEMI[''] ?? []).includes(first)) {
        // KSR.xlog("L_INFO", …): a module called as if it were a function — the script fails
        // the same way under Kamailio, and the module itself is not what is missing
        this.add(u.line, 'error', `${name} is a module, not a function: call one of its functions (KSR.${first}.…)`);
        return;
      }
      if (u.path.length === 2 && !this.modules.has(u.path[0] ?? '')) {
        this.add(u.line, 'error', inKamailio(u.path) ? `${name}: kemihost does not have module KSR.${u.path[0] ?? ''} yet` : `${name} is not a known KSR function (not in Kamailio 5.6 either)`);
      } else {
        this.add(u.line, 'error', inKamailio(u.path) ? `${name} is a Kamailio 5.6 function kemihost does not have yet` : `${name} is not a known KSR function`);
      }
      return;
    }
    if (fn.waits && this.lang === 'js' && !u.awaited) {
      this.add(u.line, 'warning', `${fn.fullName} waits in place: in JS call it as \`await ${fn.fullName}(…)\` inside an \`async function\` callback; a plain function gets its failure value at once (docs/waiting.md)`);
    }
    const count = argCount(fn, u.args);
    if (count !== null) this.add(u.line, 'error', count);
    for (const t of argTypes(fn, u.args)) this.add(u.line, 'error', t);
    for (const i of fn.routes) {
      const a = u.args[i];
      if (a?.kind === 'string' && a.value !== '' && !this.defined.has(a.value)) {
        this.add(u.line, 'error', `${fn.fullName} names "${a.value}", which the script does not define`);
      }
    }
    for (const i of fn.pvs) {
      const a = u.args[i];
      if (a?.kind === 'string' && this.reg.pvs.resolve(a.value) === null) this.add(u.line, 'warning', `${fn.fullName}: ${unknownPv(a.value)}`);
    }
  }
}

/** Lines in an engine's syntax error: "path:12" → 12. */
function lineOf(location: string | undefined): number {
  const m = /:(\d+)(?::\d+)?$/.exec(location ?? '');
  return m === null ? 1 : Number(m[1]);
}

/**
 * Check `source`. `compile` compiles it with the script's engine and throws KEMI_ERR_SCRIPT_LOAD
 * on a syntax error (it must run nothing); a script that does not compile is not read further.
 */
export function checkScript(reg: KemiRegistry, source: string, lang: Language, compile: () => void): CheckResult {
  try {
    compile();
  } catch (e) {
    if (!isKemiError(e, 'KEMI_ERR_SCRIPT_LOAD')) throw e;
    return { findings: [{ line: lineOf(e.location), level: 'error', text: e.message.replace(/^[^:]*:\d+:(\d+:)?\s*/, '') }], callbacks: [] };
  }
  const scan = scanScript(tokenize(source, lang), lang);
  const c = new Checker(reg, scan.functions, lang);
  for (const name of REQUIRED_CALLBACKS) {
    if (!scan.functions.has(name)) c.add(1, 'error', `the script does not define ${name}()`);
  }
  for (const u of scan.uses) c.use(u);
  const findings = [...c.findings].sort((a, b) => a.line - b.line);
  return { findings, callbacks: HOST_CALLBACKS.filter((n) => scan.functions.has(n)) };
}
