/**
 * The routing script the registrar binding tests share (Lua and JS, the same logic): REGISTER →
 * save (flags from X-Flags, save_uri with X-Uri, reg_send_reply with X-Send) with the return
 * code kept in $shv(rc); OPTIONS to "rc" reports it; other OPTIONS probe lookup & co. (X-Op)
 * and report $ru, $du and branch flag 6 in the reply; INVITE: lookup, then t_relay (the
 * branches fork), 404 with X-Rc when lookup fails.
 */
import type { SipMessage } from '../../host/sip/message.js';
import type { FlowEnv } from '../helpers/flow-cases.js';
import type { RequestSpec } from '../helpers/sip-client.js';

export const LUA = `
function ksr_request_route()
  local user = KSR.pv.get("$rU") or ""
  local tbl = KSR.hdr.get("X-Table") or "location"
  local uri = KSR.hdr.get("X-Uri")
  if KSR.is_REGISTER() then
    if KSR.hdr.is_present("X-Nat") > 0 then
      KSR.setbflag(6)
      KSR.pv.sets("$avp(RECEIVED)", "sip:" .. KSR.pv.get("$si") .. ":" .. KSR.pv.get("$sp"))
    end
    local flags = tonumber(KSR.hdr.get("X-Flags") or "0")
    local rc
    if uri ~= nil then rc = KSR.registrar.save_uri(tbl, flags, uri) else rc = KSR.registrar.save(tbl, flags) end
    KSR.pv.seti("$shv(rc)", rc)
    if KSR.hdr.is_present("X-Send") > 0 then KSR.pv.seti("$shv(sent)", KSR.registrar.reg_send_reply()) end
    return
  end
  if user == "rc" then
    KSR.hdr.append_to_reply("X-Rc: " .. KSR.pv.get("$shv(rc)") .. "\\r\\n")
    KSR.sl.send_reply(200, "rc")
    return
  end
  local op = KSR.hdr.get("X-Op") or "lookup"
  local rc
  if op == "registered" then rc = KSR.registrar.registered(tbl)
  elseif op == "unregister" then rc = KSR.registrar.unregister(tbl, uri)
  elseif op == "unregister_ruid" then
    KSR.registrar.reg_fetch_contacts(tbl, uri, "p")
    rc = KSR.registrar.unregister_ruid(tbl, uri, KSR.hdr.get("X-Ruid") or KSR.pv.get("$ulc(p=>ruid)"))
  elseif op == "fetch" then
    rc = KSR.registrar.reg_fetch_contacts(tbl, uri, "p")
    if rc > 0 then
      KSR.hdr.append_to_reply("X-Ulc: " .. KSR.pv.get("$ulc(p=>count)") .. " " .. KSR.pv.get("$ulc(p=>aor)") .. " " .. (KSR.pv.get("$(ulc(p=>addr)[1])") or "-") .. " " .. KSR.pv.get("$(ulc(p=>q)[0])") .. " " .. KSR.pv.get("$(ulc(p=>cflags)[0])") .. " " .. KSR.pv.get("$(ulc(p=>flags)[0])") .. "\\r\\n")
    end
  elseif op == "lookup_uri" then rc = KSR.registrar.lookup_uri(tbl, uri)
  else rc = KSR.registrar.lookup(tbl) end
  if KSR.is_INVITE() then
    if rc < 0 then
      KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
      KSR.sl.send_reply(404, "Not Found")
      return
    end
    KSR.tm.t_relay()
    return
  end
  KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
  KSR.hdr.append_to_reply("X-Ru: " .. KSR.pv.get("$ru") .. "\\r\\n")
  KSR.hdr.append_to_reply("X-Du: " .. (KSR.pv.get("$du") or "-") .. "\\r\\n")
  KSR.hdr.append_to_reply("X-Nat: " .. tostring(KSR.isbflagset(6)) .. "\\r\\n")
  KSR.sl.send_reply(200, "probe")
end
`;

export const JS = `
function ksr_request_route() {
  var user = KSR.pv.get("$rU") || "";
  var tbl = KSR.hdr.get("X-Table") || "location";
  var uri = KSR.hdr.get("X-Uri");
  var rc;
  if (KSR.is_REGISTER()) {
    if (KSR.hdr.is_present("X-Nat") > 0) {
      KSR.setbflag(6);
      KSR.pv.sets("$avp(RECEIVED)", "sip:" + KSR.pv.get("$si") + ":" + KSR.pv.get("$sp"));
    }
    var flags = Number(KSR.hdr.get("X-Flags") || "0");
    if (uri !== null) rc = KSR.registrar.save_uri(tbl, flags, uri); else rc = KSR.registrar.save(tbl, flags);
    KSR.pv.seti("$shv(rc)", rc);
    if (KSR.hdr.is_present("X-Send") > 0) KSR.pv.seti("$shv(sent)", KSR.registrar.reg_send_reply());
    return;
  }
  if (user === "rc") {
    KSR.hdr.append_to_reply("X-Rc: " + KSR.pv.get("$shv(rc)") + "\\r\\n");
    KSR.sl.send_reply(200, "rc");
    return;
  }
  var op = KSR.hdr.get("X-Op") || "lookup";
  if (op === "registered") rc = KSR.registrar.registered(tbl);
  else if (op === "unregister") rc = KSR.registrar.unregister(tbl, uri);
  else if (op === "unregister_ruid") {
    KSR.registrar.reg_fetch_contacts(tbl, uri, "p");
    rc = KSR.registrar.unregister_ruid(tbl, uri, KSR.hdr.get("X-Ruid") || KSR.pv.get("$ulc(p=>ruid)"));
  } else if (op === "fetch") {
    rc = KSR.registrar.reg_fetch_contacts(tbl, uri, "p");
    if (rc > 0) {
      KSR.hdr.append_to_reply("X-Ulc: " + KSR.pv.get("$ulc(p=>count)") + " " + KSR.pv.get("$ulc(p=>aor)") + " " + (KSR.pv.get("$(ulc(p=>addr)[1])") || "-") + " " + KSR.pv.get("$(ulc(p=>q)[0])") + " " + KSR.pv.get("$(ulc(p=>cflags)[0])") + " " + KSR.pv.get("$(ulc(p=>flags)[0])") + "\\r\\n");
    }
  } else if (op === "lookup_uri") rc = KSR.registrar.lookup_uri(tbl, uri);
  else rc = KSR.registrar.lookup(tbl);
  if (KSR.is_INVITE()) {
    if (rc < 0) {
      KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
      KSR.sl.send_reply(404, "Not Found");
      return;
    }
    KSR.tm.t_relay();
    return;
  }
  KSR.hdr.append_to_reply("X-Rc: " + rc + "\\r\\n");
  KSR.hdr.append_to_reply("X-Ru: " + KSR.pv.get("$ru") + "\\r\\n");
  KSR.hdr.append_to_reply("X-Du: " + (KSR.pv.get("$du") || "-") + "\\r\\n");
  KSR.hdr.append_to_reply("X-Nat: " + KSR.isbflagset(6) + "\\r\\n");
  KSR.sl.send_reply(200, "probe");
}
`;

export interface RegOptions {
  callId?: string;
  cseq?: number;
  /** extra header lines, e.g. 'Expires: 0', 'X-Flags: 2' */
  headers?: string[];
}

/** A REGISTER for user@example.com from the UAC with these Contact values (none: no Contact header). */
export function register(env: FlowEnv, user: string, contacts: readonly string[], o: RegOptions = {}): Promise<SipMessage> {
  return env.send(registerSpec(user, contacts, o));
}

export function registerSpec(user: string, contacts: readonly string[], o: RegOptions = {}): RequestSpec {
  return {
    method: 'REGISTER',
    ruri: 'sip:example.com',
    to: `<sip:${user}@example.com>`,
    callId: o.callId ?? `reg-${user}`,
    cseq: o.cseq ?? 1,
    headers: [...(contacts.length > 0 ? [`Contact: ${contacts.join(', ')}`] : []), ...(o.headers ?? [])],
  };
}

/** An OPTIONS probe (X-Op, X-Uri…) to user@example.com; the 200 reports what the call did. */
export function probe(env: FlowEnv, user: string, headers: string[] = []): Promise<SipMessage> {
  return env.send({ method: 'OPTIONS', ruri: `sip:${user}@example.com`, to: `<sip:${user}@example.com>`, headers });
}

/** The return code of the last save(). */
export async function lastRc(env: FlowEnv): Promise<number> {
  const r = await env.send({ method: 'OPTIONS', ruri: 'sip:rc@example.com' });
  return Number(r.getHeader('x-rc'));
}

/** The reply's Contact bindings: URI and parameters (expires as a number). */
export function bindings(reply: SipMessage): { uri: string; expires: number; q: string | null; received: string | null }[] {
  const out: { uri: string; expires: number; q: string | null; received: string | null }[] = [];
  for (const el of reply.getHeaderElements('contact')) {
    const m = /^<([^>]*)>(.*)$/.exec(el);
    if (m === null) continue;
    const params = new Map<string, string>();
    for (const x of (m[2] ?? '').split(';')) {
      const eq = x.indexOf('=');
      if (x !== '') params.set(eq < 0 ? x : x.slice(0, eq), eq < 0 ? '' : x.slice(eq + 1));
    }
    out.push({ uri: m[1] ?? '', expires: Number(params.get('expires')), q: params.get('q') ?? null, received: params.get('received') ?? null });
  }
  return out;
}
