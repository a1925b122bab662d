/**
 * KSR.xlog: log lines whose text holds pseudo-variables, printed for the current message
 * ("$rm from $fu to $ru" …), as Kamailio's xlog module does. The format is compiled once per
 * spelling (host/kemi/pv-format.ts); the line goes through the module's logger (host/log.ts caps
 * its length) with the script's file:line.
 */
import type { Logger } from 'pino';
import type { Context } from '../host/kemi/context.js';
import { FormatCache, printFormat } from '../host/kemi/pv-format.js';
import { defineModule, fn, type ModuleHost } from '../host/kemi/types.js';

type Level = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

interface State {
  readonly host: ModuleHost;
  readonly log: Logger;
  readonly formats: FormatCache;
}

/** Kamailio's xlog level names (ki_xlog_get_level, case-insensitive); anything else is L_ERR. */
const LEVELS: Readonly<Record<string, Level>> = {
  l_alert: 'fatal', l_bug: 'fatal', l_crit0: 'fatal', l_crit2: 'fatal', l_crit: 'fatal',
  l_err: 'error', l_warn: 'warn', l_notice: 'info', l_info: 'info', l_dbg: 'debug',
};

/**
 * Print and log. 1 logged (or the level is off: Kamailio returns 1 without printing); -1 when the
 * text names a pseudo-variable that does not exist, as pv_parse_format refuses it (nothing logged).
 */
function xlog(s: State, ctx: Context, level: Level, text: string): number {
  if (!s.log.isLevelEnabled(level)) return 1;
  const c = s.formats.get(text);
  if (!c.ok) {
    s.host.complain(`KSR.xlog: unknown pseudo-variable ${c.bad} in the format; nothing logged`);
    return -1;
  }
  s.log[level]({ at: s.host.script.location() }, printFormat(c.parts, ctx).replace(/[\r\n]+$/, ''));
  return 1;
}

const at = (level: Level, name: string, kamailio: string) =>
  fn(['str'], 'int', (s: State, ctx, text) => xlog(s, ctx, level, text),
    `Log the text with its pseudo-variables printed (a PV without a value prints <null>) at ${name} (Kamailio's ${kamailio}); 1 logged, -1 when the text names an unknown pseudo-variable.`);

export default defineModule({
  name: 'xlog',
  doc: 'Log lines with pseudo-variables printed for the current message.',
  init: (host): State => ({ host, log: host.log, formats: new FormatCache(host.pvs, true) }),
  functions: {
    xdbg: at('debug', 'debug', 'L_DBG'),
    xinfo: at('info', 'info', 'L_INFO'),
    xnotice: at('info', 'info (notice)', 'L_NOTICE'),
    xwarn: at('warn', 'warn', 'L_WARN'),
    xerr: at('error', 'error', 'L_ERR'),
    xcrit: at('fatal', 'fatal (crit)', 'L_CRIT'),
    xalert: at('fatal', 'fatal (alert)', 'L_ALERT'),
    xlog: fn(['str', 'str'], 'int', (s: State, ctx, level, text) => xlog(s, ctx, LEVELS[level.toLowerCase()] ?? 'error', text),
      'Log at the named level: "L_DBG", "L_INFO", "L_NOTICE", "L_WARN", "L_ERR", "L_CRIT", "L_ALERT", "L_BUG" (any case; anything else: L_ERR), the text\'s pseudo-variables printed; 1 logged, -1 when the text names an unknown pseudo-variable.'),
  },
});
