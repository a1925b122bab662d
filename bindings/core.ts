import type { Context } from '../host/kemi/context.js';
import { defineModule, fn, type KemiFunctionDef } from '../host/kemi/types.js';
import { parseUri } from '../host/sip/uri.js';
import { flagOk, moreCoreFunctions, uriIsMyself, type CoreBase } from './core-more.js';
import { transportFunctions } from './core-transport.js';

type Level = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** The module's state: core-more.ts's functions take the same. */
type CoreState = CoreBase;

/** Script log lines carry the script's file:line, as Kamailio's do. */
function scriptLog(s: CoreState, level: Level, text: string): void {
  if (!s.log.isLevelEnabled(level)) return;
  s.log[level]({ at: s.host.script.location() }, text.replace(/[\r\n]+$/, ''));
}

const KSR_LOG_LEVELS: Readonly<Record<string, Level>> = { dbg: 'debug', info: 'info', notice: 'info', warn: 'warn', err: 'error', crit: 'fatal' };

/** is_method_in letters (Kamailio core kemi.c). */
const METHOD_LETTERS: Readonly<Record<string, string>> = {
  I: 'INVITE', A: 'ACK', B: 'BYE', C: 'CANCEL', R: 'REGISTER', M: 'MESSAGE', O: 'OPTIONS', S: 'SUBSCRIBE',
  P: 'PUBLISH', N: 'NOTIFY', U: 'UPDATE', K: 'KDMQ', G: 'GET', T: 'POST', V: 'PUT', D: 'DELETE',
};

function method(ctx: Context): string {
  return ctx.msg?.method ?? '';
}

function isMethodIn(ctx: Context, letters: string): boolean {
  const m = method(ctx);
  for (const ch of letters) if (METHOD_LETTERS[ch.toUpperCase()] === m) return true;
  return false;
}

const methodTests: Record<string, KemiFunctionDef<CoreState>> = {};
for (const m of ['INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'SUBSCRIBE', 'NOTIFY', 'MESSAGE', 'INFO', 'PRACK', 'UPDATE', 'PUBLISH', 'REFER', 'KDMQ', 'GET', 'POST', 'PUT', 'DELETE']) {
  methodTests[`is_${m}`] = fn([], 'bool', (_s, ctx) => method(ctx) === m, `true when the method is ${m}.`, true);
}

function forward(ctx: Context, uri: string | null): number {
  if (ctx.owner === null || ctx.msg === null || !ctx.msg.isRequest) return -1;
  return ctx.owner.forward(ctx, uri) ? 1 : -1;
}

/** Functions directly on KSR (Kamailio's core KEMI exports). */
export default defineModule({
  name: '',
  doc: 'Core functions: logging, method tests, flags, destination, stateless forwarding.',
  init: (host): CoreState => ({ log: host.log, host, myself: host.myself }),
  functions: {
    dbg: fn(['str'], 'none', (s: CoreState, _c, t) => { scriptLog(s, 'debug', t); }, 'Log at debug level.'),
    info: fn(['str'], 'none', (s: CoreState, _c, t) => { scriptLog(s, 'info', t); }, 'Log at info level.'),
    notice: fn(['str'], 'none', (s: CoreState, _c, t) => { scriptLog(s, 'info', t); }, 'Log at notice level (info here).'),
    warn: fn(['str'], 'none', (s: CoreState, _c, t) => { scriptLog(s, 'warn', t); }, 'Log at warning level.'),
    err: fn(['str'], 'none', (s: CoreState, _c, t) => { scriptLog(s, 'error', t); }, 'Log at error level.'),
    crit: fn(['str'], 'none', (s: CoreState, _c, t) => { scriptLog(s, 'fatal', t); }, 'Log at critical level.'),
    log: fn(['str', 'str'], 'none', (s: CoreState, _c, level, t) => { scriptLog(s, KSR_LOG_LEVELS[level] ?? 'error', t); },
      'Log at the named level: dbg, info, notice, warn, err, crit (unknown: err).'),

    is_method: fn(['str'], 'bool', (_s, ctx, m) => method(ctx) === m.toUpperCase(), 'true when the method is the given one.', true),
    is_method_in: fn(['str'], 'bool', (_s, ctx, letters) => isMethodIn(ctx, letters),
      'true when the method is one of the letters: I A B C R M O S P N U K G T V D.', true),
    ...methodTests,
    ...transportFunctions,
    ...moreCoreFunctions,

    setflag: fn(['int'], 'bool', (_s, ctx, f) => flagOk(f) && ((ctx.flags |= 1 << f), true), 'Set message flag 0..31.'),
    resetflag: fn(['int'], 'bool', (_s, ctx, f) => flagOk(f) && ((ctx.flags &= ~(1 << f)), true), 'Reset message flag 0..31.'),
    isflagset: fn(['int'], 'bool', (_s, ctx, f) => flagOk(f) && (ctx.flags & (1 << f)) !== 0, 'true when message flag 0..31 is set.'),
    setbflag: fn(['int'], 'bool', (_s, ctx, f) => flagOk(f) && ((ctx.bflags |= 1 << f), true), 'Set branch flag 0..31 of branch 0.'),
    resetbflag: fn(['int'], 'bool', (_s, ctx, f) => flagOk(f) && ((ctx.bflags &= ~(1 << f)), true), 'Reset branch flag 0..31 of branch 0.'),
    isbflagset: fn(['int'], 'bool', (_s, ctx, f) => flagOk(f) && (ctx.bflags & (1 << f)) !== 0, 'true when branch flag 0..31 is set.'),

    is_myself: fn(['str'], 'bool', (s: CoreState, _c, uri) => uriIsMyself(s, uri), 'true when the URI points at one of our sockets or aliases.'),
    is_myself_ruri: fn([], 'bool', (s: CoreState, ctx) => ctx.msg?.isRequest === true && uriIsMyself(s, ctx.ruri), 'true when the R-URI is ours.'),
    is_myself_furi: fn([], 'bool', (s: CoreState, ctx) => uriIsMyself(s, ctx.msg?.from.uri), 'true when the From URI is ours.'),
    is_myself_turi: fn([], 'bool', (s: CoreState, ctx) => uriIsMyself(s, ctx.msg?.to.uri), 'true when the To URI is ours.'),
    is_myself_srcip: fn([], 'bool', (s: CoreState, ctx) => s.myself.isMyselfIp(ctx.src.ip), 'true when the source IP is one of ours.'),

    seturi: fn(['str'], 'bool', (_s, ctx, uri) => {
      if (ctx.msg?.isRequest !== true || parseUri(uri) === null) return false;
      ctx.newRuri = uri;
      return true;
    }, 'Set the R-URI.'),
    setdsturi: fn(['str'], 'bool', (_s, ctx, uri) => {
      if (parseUri(uri) === null) return false;
      ctx.dstUri = uri;
      return true;
    }, 'Set the destination URI ($du).'),
    resetdsturi: fn([], 'bool', (_s, ctx) => ((ctx.dstUri = null), true), 'Clear the destination URI.'),
    isdsturiset: fn([], 'bool', (_s, ctx) => ctx.dstUri !== null, 'true when a destination URI is set.'),
    force_rport: fn([], 'bool', (_s, ctx) => ((ctx.forceRport = true), true), 'Send replies to the source port, as if the top Via had rport.'),
    drop: fn([], 'none', (_s, ctx) => { ctx.dropped = true; }, 'Mark the message dropped (no reply, no relay); the script goes on (see KSR.x.drop).'),
    set_drop: fn([], 'none', (_s, ctx) => { ctx.dropped = true; }, 'Mark the message dropped; the script goes on.'),
    forward: fn([], 'int', (_s, ctx) => forward(ctx, null), 'Forward statelessly to $du, or else the R-URI; 1 ok, -1 failed.'),
    forward_uri: fn(['str'], 'int', (_s, ctx, uri) => (parseUri(uri) === null ? -1 : forward(ctx, uri)),
      'Forward statelessly to the given URI; 1 ok, -1 failed.'),
  },
});

