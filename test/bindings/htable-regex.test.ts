/**
 * Regexes a script hands to KSR.htable run in a linear-time engine (host/safe-regex.ts), on both
 * engines over real SIP. A backtracking engine takes ~10 s for `(a+)+$` over the 28-character
 * key below, during which the whole server stands still (cpu_ms does not apply inside a KSR
 * call): the reply would then miss the case's wait. Patterns RE2 cannot run return -1.
 */
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

const HOSTILE = `${'a'.repeat(27)}!`;
const config = { modules: { htable: { tables: { t: {} } } } };

/** set the keys, then one X-Rc header per call, then 200 */
function script(lang: 'lua' | 'js', keys: string[], calls: [string, string][]): string {
  const lines = [
    ...keys.map((k) => `KSR.htable.sht_sets("t", "${k}", "v")${lang === 'js' ? ';' : ''}`),
    ...calls.map(([h, e]) => (lang === 'lua' ? `KSR.hdr.append_to_reply("${h}: " .. tostring(${e}) .. "\\r\\n")` : `KSR.hdr.append_to_reply("${h}: " + String(${e}) + "\\r\\n");`)),
    lang === 'lua' ? 'KSR.sl.sl_send_reply(200, "OK")' : 'KSR.sl.sl_send_reply(200, "OK");',
  ];
  return lines.join('\n');
}

const both = (keys: string[], calls: [string, string][]): { lua: string; js: string } => ({ lua: script('lua', keys, calls), js: script('js', keys, calls) });

const cases: BindingCase[] = [
  {
    name: 'a catastrophic pattern over a hostile key is answered at once; matching stays case-insensitive',
    ...both([HOSTILE], [
      ['X-Match', 'KSR.htable.sht_match_name("t", "re", "(a+)+$")'],
      ['X-Rm', 'KSR.htable.sht_rm_name_re("t", "(a+)+$")'],
      ['X-Kept', `KSR.htable.sht_is_null("t", "${HOSTILE}")`],
      ['X-Ci', 'KSR.htable.sht_match_name("t", "re", "^A+!$")'],
      ['X-Count', 'KSR.pv.get("$shtcn(t=>~~^A+!$)")'],
    ]),
    config,
    expect: { status: 200, headers: { 'X-Match': '-1', 'X-Rm': '1', 'X-Kept': '-1', 'X-Ci': '1', 'X-Count': '1' } },
  },
  {
    name: 'what RE2 cannot run (a backreference, a lookahead) and bad syntax return -1; POSIX classes work',
    ...both(['k1', 'aa'], [
      ['X-Backref', 'KSR.htable.sht_match_name("t", "re", "(a)\\\\1")'],
      ['X-Look', 'KSR.htable.sht_match_name("t", "re", "k(?=1)")'],
      ['X-Bad', 'KSR.htable.sht_rm_name_re("t", "(")'],
      ['X-Posix', 'KSR.htable.sht_match_name("t", "re", "^k[[:digit:]]$")'],
    ]),
    config,
    expect: { status: 200, headers: { 'X-Backref': '-1', 'X-Look': '-1', 'X-Bad': '-1', 'X-Posix': '1' } },
  },
];

runBindingCases('KSR.htable regexes (linear time)', cases);
