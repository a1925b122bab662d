/**
 * KSR.kx.ifdef / ifndef / get_def / get_defn read the config's kx.defines (Kamailio's #!define),
 * both engines, answered to a real UDP peer. The master kamailio-basic-kemi-lua.lua example
 * tests `KSR.kx.ifdef('WITH_RTPENGINE')`; a public JS script reads values with get_def.
 */
import { runBindingCases, type BindingCase } from '../helpers/binding-cases.js';

const NAMES = ['WITH_NAT', 'MAX_HOPS', 'NOSUCH'];
const lua = `local out = {}
for _, n in ipairs({${NAMES.map((n) => `"${n}"`).join(', ')}}) do
  out[#out + 1] = tostring(KSR.kx.ifdef(n)) .. "/" .. tostring(KSR.kx.ifndef(n)) .. "/[" .. KSR.kx.get_def(n) .. "]/" .. KSR.kx.get_defn(n)
end
KSR.hdr.append_to_reply("X-D: " .. table.concat(out, ",") .. "\\r\\n")
KSR.sl.sl_send_reply(200, "OK")`;
const js = `const out = [];
for (const n of ${JSON.stringify(NAMES)}) {
  out.push(KSR.kx.ifdef(n) + "/" + KSR.kx.ifndef(n) + "/[" + KSR.kx.get_def(n) + "]/" + KSR.kx.get_defn(n));
}
KSR.hdr.append_to_reply("X-D: " + out.join(",") + "\\r\\n");
KSR.sl.sl_send_reply(200, "OK");`;

const cases: BindingCase[] = [
  {
    name: 'defined bare, defined with a number, not defined',
    lua, js,
    config: { modules: { kx: { defines: { WITH_NAT: '', MAX_HOPS: 10 } } } },
    expect: { status: 200, headers: { 'X-D': 'true/false/[]/0,true/false/[10]/10,false/true/[]/0' } },
  },
  {
    name: 'no defines configured: nothing is defined',
    lua, js,
    expect: { status: 200, headers: { 'X-D': 'false/true/[]/0,false/true/[]/0,false/true/[]/0' } },
  },
  {
    name: 'a value that is not a number reads as its leading digits for get_defn',
    lua, js,
    config: { modules: { kx: { defines: { MAX_HOPS: '42abc', WITH_NAT: 'yes' } } } },
    expect: { status: 200, headers: { 'X-D': 'true/false/[yes]/0,true/false/[42abc]/42,false/true/[]/0' } },
  },
];

runBindingCases('kx defines (ifdef, ifndef, get_def, get_defn)', cases);
