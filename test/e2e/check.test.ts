/**
 * `kemihost check` as a porting tool, run as a user runs it (the real command, a child
 * process): it never runs the script, reports one `file:line: level: text` per finding, and
 * exits 0 (clean), 1 (errors) or 2 (warnings only). Every case is written in Lua and in JS.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { writeScript } from '../helpers/runtime.js';

interface CheckCase {
  name: string;
  lua: string;
  js: string;
  code: 0 | 1 | 2;
  /** each must be a line of the output, with the script's path in front */
  lines?: string[];
  absent?: RegExp;
}

const REPLY_LUA = 'KSR.sl.sl_send_reply(200, "OK")';
const REPLY_JS = 'KSR.sl.sl_send_reply(200, "OK");';
const luaRoute = (body: string, extra = ''): string => `function ksr_request_route()\n${body}\nend\n${extra}`;
const jsRoute = (body: string, extra = ''): string => `function ksr_request_route() {\n${body}\n}\n${extra}`;

const cases: CheckCase[] = [
  { name: 'a clean script', lua: luaRoute(REPLY_LUA), js: jsRoute(REPLY_JS), code: 0 },
  {
    name: 'a syntax error: its line, nothing else read',
    lua: 'function ksr_request_route()\n  if then\nend\n',
    js: 'function ksr_request_route() {\n  var = 1;\n}\n',
    code: 1,
    lines: [':2: error: '],
  },
  {
    name: 'no ksr_request_route',
    lua: 'function other() end\n',
    js: 'function other() {}\n',
    code: 1,
    lines: [':1: error: the script does not define ksr_request_route()'],
  },
  {
    name: 'names in comments are not read',
    lua: luaRoute(`-- KSR.nosuch.call()\n--[[ KSR.other.call()\n ]] ${REPLY_LUA}`),
    js: jsRoute(`// KSR.nosuch.call();\n/* KSR.other.call(); */ ${REPLY_JS}`),
    code: 0,
  },
  {
    name: 'a presence test of a module kemihost lacks is a warning, not an error',
    lua: luaRoute(`if not KSR.lcr then return end\n${REPLY_LUA}`),
    js: jsRoute(`if (!KSR.lcr) return;\n${REPLY_JS}`),
    code: 2,
    lines: [':2: warning: KSR.lcr is tested or used as a value, but kemihost does not have module KSR.lcr'],
  },
  {
    name: 'a Kamailio function kemihost does not have yet, and a typo',
    lua: luaRoute('KSR.lcr.load_gws(1)\nKSR.sl.sl_send_replyy(200, "OK")'),
    js: jsRoute('KSR.lcr.load_gws(1);\nKSR.sl.sl_send_replyy(200, "OK");'),
    code: 1,
    lines: [':2: error: KSR.lcr.load_gws: kemihost does not have module KSR.lcr yet', ':3: error: KSR.sl.sl_send_replyy is not a known KSR function'],
  },
  {
    // seen in a public script (KSR.xlog("L_INFO", …)): it was reported as a function kemihost lacks
    name: 'a module called as a function is told apart from a missing function',
    lua: luaRoute(`KSR.xlog("L_INFO", "x")\nKSR.lcr("x")\n${REPLY_LUA}`),
    js: jsRoute(`KSR.xlog("L_INFO", "x");\nKSR.lcr("x");\n${REPLY_JS}`),
    code: 1,
    lines: [':2: error: KSR.xlog is a module, not a function: call one of its functions (KSR.xlog.…)', ':3: error: KSR.lcr is a module, not a function'],
    absent: /does not have/,
  },
  {
    name: 'KSR.route (a native cfg route block) gets the porting answer',
    lua: luaRoute(`KSR.route("DLGURI")\n${REPLY_LUA}`),
    js: jsRoute(`KSR.route("DLGURI");\n${REPLY_JS}`),
    code: 1,
    lines: [':2: error: KSR.route runs a route block of a native kamailio.cfg, and kemihost has no native config'],
  },
  {
    name: 'argument counts and literal types against the signature',
    lua: luaRoute('KSR.sl.sl_send_reply(200)\nKSR.sl.sl_send_reply("two hundred", "OK")\nKSR.sl.sl_send_reply("200", "OK")'),
    js: jsRoute('KSR.sl.sl_send_reply(200);\nKSR.sl.sl_send_reply("two hundred", "OK");\nKSR.sl.sl_send_reply("200", "OK");'),
    code: 1,
    lines: [':2: error: KSR.sl.sl_send_reply takes 2 arguments (int, str), given 1', ':3: error: argument #1 to KSR.sl.sl_send_reply must be an int, given the string "two hundred"'],
    absent: /:4: /,
  },
  {
    name: 'an unknown pseudo-variable in a literal',
    lua: luaRoute(`local x = KSR.pv.get("$nosuchpv")\n${REPLY_LUA}`),
    js: jsRoute(`const x = KSR.pv.get("$nosuchpv");\n${REPLY_JS}`),
    code: 2,
    lines: [':2: warning: KSR.pv.get: "$nosuchpv" is not a pseudo-variable kemihost knows'],
  },
  {
    // both seen in a public script: the warning says what is wrong with the name
    name: 'a pseudo-variable with a transformation, and one without its $',
    lua: luaRoute(`local x = KSR.pv.get("$(hu{s.substr,0,8})")\nKSR.pv.sets("avp(trunk)", "a")\n${REPLY_LUA}`),
    js: jsRoute(`const x = KSR.pv.get("$(hu{s.substr,0,8})");\nKSR.pv.sets("avp(trunk)", "a");\n${REPLY_JS}`),
    code: 2,
    lines: [':2: warning: KSR.pv.get: "$(hu{s.substr,0,8})" has a transformation; kemihost has no general transformations yet', ':3: warning: KSR.pv.sets: "avp(trunk)" does not start with $'],
  },
  {
    name: 'a route named in a call that the script does not define',
    lua: luaRoute('KSR.tm.t_on_failure("FAIL")\nKSR.tm.t_on_reply("REPLY")\nKSR.tm.t_relay()', 'function REPLY() end\n'),
    js: jsRoute('KSR.tm.t_on_failure("FAIL");\nKSR.tm.t_on_reply("REPLY");\nKSR.tm.t_relay();', 'function REPLY() {}\n'),
    code: 1,
    lines: [':2: error: KSR.tm.t_on_failure names "FAIL", which the script does not define'],
    absent: /REPLY/,
  },
];

function expectLines(out: string, path: string, c: CheckCase): void {
  for (const l of c.lines ?? []) assert.ok(out.includes(`${path}${l}`), `expected "${path}${l}" in:\n${out}`);
  if (c.absent !== undefined) assert.doesNotMatch(out, c.absent);
}

for (const engine of ['lua', 'js'] as const) {
  describe(`kemihost check [${engine}]`, () => {
    for (const c of cases) {
      test(c.name, async () => {
        const path = writeScript(engine, c[engine]);
        const r = await runCli(['check', path]);
        assert.equal(r.code, c.code, r.stdout + r.stderr);
        expectLines(r.stdout, path, c);
        // one finding per line, each "file:line: level: text"
        for (const line of r.stdout.split('\n').filter((l) => l !== '')) assert.match(line, /^.+:\d+: (error|warning): .+$/);
      });
    }

    test('the script\'s top level never runs', async () => {
      const marker = join(mkdtempSync(join(tmpdir(), 'kemihost-check-')), 'ran');
      // a top level that would write a file (Lua with the full library) or never end (both)
      const src = engine === 'lua'
        ? `local f = io.open and io.open("${marker}", "w")\nwhile true do end\n${luaRoute(REPLY_LUA)}`
        : `while (true) {}\n${jsRoute(REPLY_JS)}`;
      const r = await runCli(['check', writeScript(engine, src)]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(existsSync(marker), false);
    });

    test('--json gives the findings as one object', async () => {
      const path = writeScript(engine, engine === 'lua' ? luaRoute('KSR.nosuch.fn()') : jsRoute('KSR.nosuch.fn();'));
      const r = await runCli(['check', '--json', path]);
      assert.equal(r.code, 1);
      const out = JSON.parse(r.stdout) as { engine: string; errors: number; warnings: number; callbacks: string[]; findings: { line: number; level: string; text: string }[] };
      assert.equal(out.engine, engine);
      assert.deepEqual(out.callbacks, ['ksr_request_route']);
      assert.equal(out.errors, 1);
      assert.deepEqual(out.findings[0], { line: 2, level: 'error', text: 'KSR.nosuch.fn is not a known KSR function (not in Kamailio 5.6 either)' });
    });
  });
}

test('kemihost check [js]: const and arrow callbacks count as defined (app_jsdt accepts them)', async () => {
  const r = await runCli(['check', writeScript('js', `const ksr_request_route = function () { ${REPLY_JS} };\nconst RESUME = () => {};\nfunction x() { KSR.async.ms_route("RESUME", 10); }\n`)]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /callbacks: ksr_request_route;/);
});

/**
 * A call that waits in place (docs/waiting.md): a Lua callback needs nothing; in JS it must be
 * awaited inside an async function callback, and check says so where it is not.
 */
const WAITING: Record<'lua' | 'js', { src: string; code: 0 | 2; lines: string[] }> = {
  lua: { src: luaRoute(`local a = KSR.async.ms_sleep(10)\nlocal b = KSR.async.ms_sleep(10)\n${REPLY_LUA}`), code: 0, lines: [] },
  js: {
    src: `async function ksr_request_route() {\nconst a = await KSR.async.ms_sleep(10);\nconst b = KSR.async.ms_sleep(10);\n${REPLY_JS}\n}\n`,
    code: 2,
    lines: [':3: warning: KSR.async.ms_sleep waits in place: in JS call it as `await KSR.async.ms_sleep(…)` inside an `async function` callback'],
  },
};

for (const engine of ['lua', 'js'] as const) {
  test(`kemihost check [${engine}]: a call that waits in place`, async () => {
    const c = WAITING[engine];
    const path = writeScript(engine, c.src);
    const r = await runCli(['check', path]);
    assert.equal(r.code, c.code, r.stdout + r.stderr);
    for (const l of c.lines) assert.ok(r.stdout.includes(`${path}${l}`), `expected "${path}${l}" in:\n${r.stdout}`);
    assert.doesNotMatch(r.stdout, /:2: warning/, 'an awaited call is not reported');
  });
}
