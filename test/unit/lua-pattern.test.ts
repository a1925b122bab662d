/**
 * The counted pattern matcher (host/engines/lua/lua-pattern*.ts) gives what fengari's
 * string.find/match/gmatch/gsub give — results and error messages — on chosen cases and on
 * thousands of generated ones: a fengari state with its own string library against one with
 * ours installed over it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lauxlib, lua, lualib, to_jsstring, to_luastring, type LuaState } from 'fengari';
import { installPatternLib } from '../../host/engines/lua/lua-pattern-lib.js';

function state(ours: boolean): LuaState {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  if (ours) installPatternLib(L, { reserve: () => undefined, work: () => undefined });
  return L;
}

/** Runs one case in mode 1..6 and returns everything it produced, errors included. */
const CASE = `
local s, p, r, mode = ...
local out = {}
local function add(...)
  for i = 1, select('#', ...) do out[#out + 1] = tostring((select(i, ...))) end
  out[#out + 1] = '|'
end
local ok, err = pcall(function()
  if mode == 1 then add(string.find(s, p)) add(string.find(s, p, 2)) add(string.find(s, p, -3, true))
  elseif mode == 2 then add(string.match(s, p)) add(string.match(s, p, 3)) add(s:match(p, -2))
  elseif mode == 3 then local k = 0 for a, b in string.gmatch(s, p) do add(a, b) k = k + 1 if k > 50 then break end end
  elseif mode == 4 then add(string.gsub(s, p, r)) add(string.gsub(s, p, r, 2))
  elseif mode == 5 then add(string.gsub(s, p, function(a, b) return b or (a and a:upper()) end))
  else add(string.gsub(s, p, { a = "X", b = false, ab = 7 })) end
end)
if not ok then add("ERR", err) end
return table.concat(out, ",")
`;

function run(L: LuaState, s: string, p: string, r: string, mode: number): string {
  assert.equal(lauxlib.luaL_loadbuffer(L, to_luastring(CASE), null, to_luastring('=case')), lua.LUA_OK);
  for (const v of [s, p, r]) lua.lua_pushstring(L, to_luastring(v));
  lua.lua_pushinteger(L, mode);
  const status = lua.lua_pcall(L, 4, 1, 0);
  const text = lua.lua_tostring(L, -1);
  lua.lua_pop(L, 1);
  return `${String(status)}:${text === null ? '' : to_jsstring(text)}`;
}

const fengari = state(false);
const ours = state(true);

function same(s: string, p: string, r: string, mode: number): void {
  assert.equal(run(ours, s, p, r, mode), run(fengari, s, p, r, mode), JSON.stringify({ s, p, r, mode }));
}

describe('Lua patterns: the counted matcher gives fengari\'s results', () => {
  it('on chosen cases', () => {
    const cases: [string, string, string][] = [
      ['hello world from Lua', '(%w+) (%w+)', '%2 %1'],
      ['key=value; other = 2', '(%w+)%s*=%s*(%w+)', '<%1:%2>'],
      ['THE (quick) fox', '%f[%a]%a+', '[%0]'],
      ['f(a(b)c) d', '%b()', '%%'],
      ['abcabc', '()b()', 'x'],
      ['aaa', 'a-', '-'],
      ['aaa', '^a?', '?'],
      ['x = "a\\"b"', '"(.-)"', '%1'],
      ['abab', '(ab)%1', 'Y'],
      ['', '', 'e'],
      ['abc', '[%a-]+$', ''],
      ['a.b.c', '%.', '/'],
      ['sip:alice@example.com;transport=udp', '^sip:([^@]+)@([^;]+)', '%2/%1'],
      ['abc', '%', 'x'],
      ['abc', '[a', 'x'],
      ['abc', '(a', 'x'],
      ['abc', 'a)', 'x'],
      ['abc', '%1', 'x'],
      ['abc', '(a)', '%2'],
      ['abc', 'b', '%x'],
      ['a\0b', '%z', 'Z'],
    ];
    for (const [s, p, r] of cases) for (let mode = 1; mode <= 6; mode++) same(s, p, r, mode);
  });

  it('on 5000 generated patterns and subjects', () => {
    const atoms = ['a', 'b', '.', '%a', '%d', '%s', '%w', '%A', '[ab]', '[^a]', '[a-c]', '%%', '(', ')', '()', '%1', '%b()', '%f[%w]', '*', '+', '-', '?', '^', '$', 'x', '[%d]', '%', '[', ']'];
    const pieces = ['a', 'b', 'ab', ' ', '1', '(', ')', 'x', 'abc', '%'];
    const repls = ['%0', '%1', 'r', '%%', '%2x', '%'];
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
    for (let i = 0; i < 5000; i++) {
      let p = '';
      for (let k = rnd(6) + 1; k > 0; k--) p += pick(atoms);
      let s = '';
      for (let k = rnd(8); k > 0; k--) s += pick(pieces);
      same(s, p, pick(repls), rnd(6) + 1);
    }
  });
});
