/**
 * Kamailio http_client's `config_file`: connections as INI sections, for when a httpcon line
 * gets too long:
 *
 *   [authapiserver]
 *   url = https://api.example.com/v4.2/auth
 *   timeout = 1
 *   tlsversion = TLSv1.2
 *   verify_peer = yes
 *
 * Keys as Kamailio's parser knows them; booleans yes/no, on/off, true/false, 1/0; file names
 * relative to the file's directory. What kemihost cannot do (httpproxy) is refused, as the
 * modparam is.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { applySetting, parseBaseUrl, type HttpConnection, type QuerySettings, type SettingsDraft } from './connections.js';

const BOOLS: Readonly<Record<string, string>> = {
  yes: '1', true: '1', on: '1', enable: '1', enabled: '1', '1': '1',
  no: '0', false: '0', off: '0', disable: '0', disabled: '0', '0': '0',
};
const BOOL_KEYS = new Set(['verify_peer', 'verify_host', 'httpredirect']);
const TLS_VERSIONS: Readonly<Record<string, string>> = { DEFAULT: '0', TLSv1: '1', SSLv2: '2', SSLv3: '3', 'TLSv1.0': '4', 'TLSv1.1': '5', 'TLSv1.2': '6' };
/** accepted and without effect here, as their modparams */
const IGNORED = new Set(['keepconnections', 'keep_connections', 'cipher_suites']);

interface Section {
  readonly name: string;
  readonly line: number;
  readonly kv: Map<string, { value: string; line: number }>;
}

function sections(text: string, file: string): Section[] {
  const out: Section[] = [];
  let cur: Section | null = null;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/\s#.*$|^#.*$/, '').trim();
    if (line === '') continue;
    const head = /^\[([^\]\s]+)\]$/.exec(line);
    if (head !== null) {
      cur = { name: head[1] ?? '', line: i + 1, kv: new Map() };
      out.push(cur);
      continue;
    }
    const eq = line.indexOf('=');
    if (cur === null || eq < 1) throw new Error(`${file}:${String(i + 1)}: expected [name] or key = value`);
    cur.kv.set(line.slice(0, eq).trim().toLowerCase(), { value: line.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'), line: i + 1 });
  }
  return out;
}

/** The connections of a config file; throws with file:line for what cannot be used. */
export function readConfigFile(file: string, defaults: QuerySettings, secondsToMs: (n: number) => number): HttpConnection[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`http_client config_file: ${(e as Error).message}`);
  }
  const dir = dirname(file);
  return sections(text, file).map((sec) => {
    const at = (line: number): string => `${file}:${String(line)}`;
    const url = sec.kv.get('url');
    if (url === undefined) throw new Error(`${at(sec.line)}: [${sec.name}] has no url`);
    const base = parseBaseUrl(sec.name, url.value);
    const s: SettingsDraft = { ...defaults };
    let username = base.username;
    let password = base.password;
    let failover = '';
    for (const [key, { value, line }] of sec.kv) {
      const k = key === 'http_follow_redirect' ? 'httpredirect' : key;
      try {
        if (k === 'url' || IGNORED.has(k)) continue;
        if (k === 'username') username = value;
        else if (k === 'password') password = value;
        else if (k === 'failover') failover = value;
        else if (k === 'authmethod') s.authMethod = Number(value) & 3;
        else if (k === 'httpproxy' || k === 'httpproxyport') {
          if (value !== '' && value !== '0') throw new Error('httpproxy is not supported by kemihost');
        } else {
          let v = value;
          if (BOOL_KEYS.has(k)) v = BOOLS[value.toLowerCase()] ?? value;
          if (k === 'tlsversion') v = TLS_VERSIONS[value] ?? value;
          if ((k === 'client_cert' || k === 'client_key') && v !== '' && !isAbsolute(v)) v = resolve(dir, v);
          if (!applySetting(sec.name, s, k, v, secondsToMs)) throw new Error(`unknown key "${key}"`);
        }
      } catch (e) {
        throw new Error(`${at(line)}: [${sec.name}] ${(e as Error).message}`);
      }
    }
    return { name: sec.name, schema: base.schema, base: base.base, username, password, failover, settings: s };
  });
}
