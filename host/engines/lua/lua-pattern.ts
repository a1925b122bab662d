/**
 * Lua 5.3 pattern matching (the manual's §6.4.1), as fengari's lstrlib.js does it (MIT), with
 * one addition: it counts its steps and reports them to the CPU limit. Lua patterns backtrack:
 * string.find(("a"):rep(3000), ".-.-.-.-b") runs for days inside one library call that no
 * hook can interrupt; counted, it ends at limits.cpu_ms like a loop of Lua code.
 */
import { lauxlib, lua, to_luastring, type LuaState } from 'fengari';
import { raiseError } from './protected-calls.js';

export interface StepSink {
  work(L: LuaState, units: number): void;
}

const L_ESC = 37; // '%'
const MAXCCALLS = 200;
const LUA_MAXCAPTURES = 32;
const CAP_UNFINISHED = -1;
const CAP_POSITION = -2;
/** Steps between two reports; one step counts as STEP_UNITS units of work. */
const STEP_BATCH = 4096;
const STEP_UNITS = 16;
const SPECIALS = new Set(Array.from(Buffer.from('^$*+?.([%-', 'latin1')));

interface Capture {
  init: number;
  len: number;
}

export class MatchState {
  level = 0;
  matchdepth = MAXCCALLS;
  readonly capture: Capture[] = [];
  private steps = 0;

  constructor(
    readonly L: LuaState,
    private readonly sink: StepSink,
    readonly src: Uint8Array,
    /** the pattern, without its '^' anchor */
    readonly p: Uint8Array,
  ) {}

  get srcEnd(): number {
    return this.src.length;
  }

  reprep(): void {
    this.level = 0;
  }

  tick(): void {
    if (++this.steps < STEP_BATCH) return;
    this.steps = 0;
    this.sink.work(this.L, STEP_BATCH * STEP_UNITS);
  }
}

/** true when the pattern has no special character: a plain search does the same. */
export function noSpecials(p: Uint8Array): boolean {
  for (const c of p) if (SPECIALS.has(c)) return false;
  return true;
}

function isalpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isdigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function islower(c: number): boolean {
  return c >= 97 && c <= 122;
}
function isupper(c: number): boolean {
  return c >= 65 && c <= 90;
}
function isspace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}
function iscntrl(c: number): boolean {
  return c < 32 || c === 127;
}
function isgraph(c: number): boolean {
  return c > 32 && c < 127;
}
function ispunct(c: number): boolean {
  return isgraph(c) && !isalpha(c) && !isdigit(c);
}
function isxdigit(c: number): boolean {
  return isdigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function classEnd(ms: MatchState, p: number): number {
  const pat = ms.p;
  const c = pat[p++];
  if (c === L_ESC) {
    if (p >= pat.length) raiseError(ms.L, "malformed pattern (ends with '%')");
    return p + 1;
  }
  if (c === 91 /* [ */) {
    if (pat[p] === 94 /* ^ */) p++;
    do {
      if (p >= pat.length) raiseError(ms.L, "malformed pattern (missing ']')");
      if (pat[p++] === L_ESC && p < pat.length) p++;
    } while (pat[p] !== 93 /* ] */);
    return p + 1;
  }
  return p;
}

function matchClass(c: number, cl: number): boolean {
  let res: boolean;
  switch (cl | 0x20) {
    case 97: res = isalpha(c); break; // a
    case 99: res = iscntrl(c); break; // c
    case 100: res = isdigit(c); break; // d
    case 103: res = isgraph(c); break; // g
    case 108: res = islower(c); break; // l
    case 112: res = ispunct(c); break; // p
    case 115: res = isspace(c); break; // s
    case 117: res = isupper(c); break; // u
    case 119: res = isalpha(c) || isdigit(c); break; // w
    case 120: res = isxdigit(c); break; // x
    case 122: res = c === 0; break; // z (deprecated)
    default: return cl === c;
  }
  return isupper(cl) ? !res : res;
}

function matchBracketClass(ms: MatchState, c: number, p: number, ec: number): boolean {
  const pat = ms.p;
  let sig = true;
  if (pat[p + 1] === 94 /* ^ */) {
    sig = false;
    p++;
  }
  while (++p < ec) {
    if (pat[p] === L_ESC) {
      p++;
      if (matchClass(c, pat[p] as number)) return sig;
    } else if (pat[p + 1] === 45 /* - */ && p + 2 < ec) {
      p += 2;
      if ((pat[p - 2] as number) <= c && c <= (pat[p] as number)) return sig;
    } else if (pat[p] === c) {
      return sig;
    }
  }
  return !sig;
}

function singleMatch(ms: MatchState, s: number, p: number, ep: number): boolean {
  if (s >= ms.srcEnd) return false;
  const c = ms.src[s] as number;
  switch (ms.p[p]) {
    case 46: return true; // .
    case L_ESC: return matchClass(c, ms.p[p + 1] as number);
    case 91: return matchBracketClass(ms, c, p, ep - 1); // [
    default: return ms.p[p] === c;
  }
}

function matchBalance(ms: MatchState, s: number, p: number): number | null {
  if (p >= ms.p.length - 1) raiseError(ms.L, "malformed pattern (missing arguments to '%b')");
  if (s >= ms.srcEnd || ms.src[s] !== ms.p[p]) return null;
  const b = ms.p[p];
  const e = ms.p[p + 1];
  let cont = 1;
  while (++s < ms.srcEnd) {
    ms.tick();
    const c = ms.src[s];
    if (c === e) {
      if (--cont === 0) return s + 1;
    } else if (c === b) {
      cont++;
    }
  }
  return null;
}

function maxExpand(ms: MatchState, s: number, p: number, ep: number): number | null {
  let i = 0;
  while (singleMatch(ms, s + i, p, ep)) {
    ms.tick();
    i++;
  }
  while (i >= 0) {
    const res = match(ms, s + i, ep + 1);
    if (res !== null) return res;
    i--;
  }
  return null;
}

function minExpand(ms: MatchState, s: number, p: number, ep: number): number | null {
  for (;;) {
    const res = match(ms, s, ep + 1);
    if (res !== null) return res;
    if (!singleMatch(ms, s, p, ep)) return null;
    s++;
  }
}

function startCapture(ms: MatchState, s: number, p: number, what: number): number | null {
  const level = ms.level;
  if (level >= LUA_MAXCAPTURES) raiseError(ms.L, 'too many captures');
  const cap = ms.capture[level];
  if (cap === undefined) ms.capture[level] = { init: s, len: what };
  else {
    cap.init = s;
    cap.len = what;
  }
  ms.level = level + 1;
  const res = match(ms, s, p);
  if (res === null) ms.level--;
  return res;
}

function captureToClose(ms: MatchState): Capture {
  for (let level = ms.level - 1; level >= 0; level--) {
    const cap = ms.capture[level] as Capture;
    if (cap.len === CAP_UNFINISHED) return cap;
  }
  return raiseError(ms.L, 'invalid pattern capture');
}

function endCapture(ms: MatchState, s: number, p: number): number | null {
  const cap = captureToClose(ms);
  cap.len = s - cap.init;
  const res = match(ms, s, p);
  if (res === null) cap.len = CAP_UNFINISHED;
  return res;
}

function checkCapture(ms: MatchState, l: number): Capture {
  const i = l - 49; // '1'
  const cap = ms.capture[i];
  if (i < 0 || i >= ms.level || cap === undefined || cap.len === CAP_UNFINISHED) {
    return raiseError(ms.L, `invalid capture index %${String(i + 1)}`);
  }
  return cap;
}

function matchCapture(ms: MatchState, s: number, l: number): number | null {
  const cap = checkCapture(ms, l);
  const len = cap.len;
  if (ms.srcEnd - s < len) return null;
  for (let k = 0; k < len; k++) if (ms.src[cap.init + k] !== ms.src[s + k]) return null;
  return s + len;
}

/** The end of a match of the pattern from p at subject position s, or null. */
export function match(ms: MatchState, s: number | null, p: number): number | null {
  if (ms.matchdepth-- === 0) raiseError(ms.L, 'pattern too complex');
  ms.tick();
  const pat = ms.p;
  const pEnd = pat.length;
  for (;;) {
    if (s === null || p === pEnd) break;
    const c = pat[p];
    const n = pat[p + 1] as number;
    if (c === 40 /* ( */) {
      s = n === 41 ? startCapture(ms, s, p + 2, CAP_POSITION) : startCapture(ms, s, p + 1, CAP_UNFINISHED);
      break;
    }
    if (c === 41 /* ) */) {
      s = endCapture(ms, s, p + 1);
      break;
    }
    if (c === 36 /* $ */ && p + 1 === pEnd) {
      s = s === ms.srcEnd ? s : null;
      break;
    }
    if (c === L_ESC && n === 98 /* b */) {
      s = matchBalance(ms, s, p + 2);
      if (s === null) break;
      p += 4;
      continue;
    }
    if (c === L_ESC && n === 102 /* f */) {
      p += 2;
      if (pat[p] !== 91) raiseError(ms.L, "missing '[' after '%f' in pattern");
      const ep = classEnd(ms, p);
      const previous = s === 0 ? 0 : (ms.src[s - 1] as number);
      const current = s === ms.srcEnd ? 0 : (ms.src[s] as number);
      if (matchBracketClass(ms, previous, p, ep - 1) || !matchBracketClass(ms, current, p, ep - 1)) {
        s = null;
        break;
      }
      p = ep;
      continue;
    }
    if (c === L_ESC && n >= 48 && n <= 57) {
      s = matchCapture(ms, s, n);
      if (s === null) break;
      p += 2;
      continue;
    }
    // a single character class with an optional suffix
    const ep = classEnd(ms, p);
    const suffix = pat[ep];
    if (!singleMatch(ms, s, p, ep)) {
      if (suffix === 42 || suffix === 63 || suffix === 45) { // * ? -: accept empty
        p = ep + 1;
        continue;
      }
      s = null;
      break;
    }
    if (suffix === 63 /* ? */) {
      const res = match(ms, s + 1, ep + 1);
      if (res !== null) {
        s = res;
        break;
      }
      p = ep + 1;
      continue;
    }
    if (suffix === 43 /* + */) {
      s = maxExpand(ms, s + 1, p, ep);
      break;
    }
    if (suffix === 42 /* * */) {
      s = maxExpand(ms, s, p, ep);
      break;
    }
    if (suffix === 45 /* - */) {
      s = minExpand(ms, s, p, ep);
      break;
    }
    s++;
    p = ep;
  }
  ms.matchdepth++;
  return s;
}

/** Push capture i (the whole match s..e when the pattern has none). */
export function pushOneCapture(ms: MatchState, i: number, s: number, e: number): void {
  const L = ms.L;
  if (i >= ms.level) {
    if (i !== 0) raiseError(L, `invalid capture index %${String(i + 1)}`);
    lua.lua_pushstring(L, ms.src.subarray(s, e));
    return;
  }
  const cap = ms.capture[i] as Capture;
  if (cap.len === CAP_UNFINISHED) raiseError(L, 'unfinished capture');
  if (cap.len === CAP_POSITION) lua.lua_pushinteger(L, cap.init + 1);
  else lua.lua_pushstring(L, ms.src.subarray(cap.init, cap.init + cap.len));
}

/** Push all captures (or the whole match when s is given and the pattern has none). */
export function pushCaptures(ms: MatchState, s: number | null, e: number): number {
  const n = ms.level === 0 && s !== null ? 1 : ms.level;
  lauxlib.luaL_checkstack(ms.L, n, to_luastring('too many captures'));
  for (let i = 0; i < n; i++) pushOneCapture(ms, i, s ?? 0, e);
  return n;
}
