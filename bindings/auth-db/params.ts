/**
 * auth_db's parameters: Kamailio 5.6's (auth_db.txt) and three of kemihost's own for the copy
 * of the table kept in memory on MySQL/PostgreSQL (docs/auth.md, "The subscriber store").
 */
import { z } from 'zod';
import { moduleDbUrlParam } from '../../host/db/config.js';

const flag = z.union([z.boolean(), z.number().int().min(0).max(1)]);
const column = (def: string, what: string): z.ZodDefault<z.ZodString> =>
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected a plain column name' }).default(def).describe(what);

export const authDbParams = z
  .object({
    db_url: moduleDbUrlParam,
    user_column: column('username', 'column holding the user name'),
    domain_column: column('domain', 'column holding the domain'),
    password_column: column('ha1', 'column holding the HA1 (or, with calculate_ha1, the clear password)'),
    password_column_2: column('ha1b', 'column holding the HA1 computed with "user@domain" as username: used when calculate_ha1 is off and the credentials\' username has a domain'),
    calculate_ha1: flag.default(0)
      .describe('1: password_column holds the clear password and the HA1 is computed; 0: it holds the HA1 (kamctl and kemihost ctl fill password, ha1 and ha1b)'),
    use_domain: flag.default(0)
      .describe('look the subscriber up by user name and domain (the credentials\' domain, else the realm); 0: by user name only. With auth_check flag 1, also compare the From and To domains'),
    load_credentials: z.string().default('')
      .describe('columns to copy into pseudo-variables after a successful check (and by is_subscriber): "$avp(i:123)=rpid;email_address" (a bare column goes to $avp(column))'),
    version_table: flag.default(1)
      .describe('check the tables\' version rows at start (SQLite: create the subscriber table when missing)'),
    force_generate_avps: flag.default(0)
      .describe('set the load_credentials values even when the password is wrong'),
    tables: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).min(1).default(['subscriber'])
      .describe('kemihost: the tables scripts name; checked at start, and on MySQL/PostgreSQL kept in memory (a call naming another table returns -1). SQLite reads any table directly'),
    reload_interval: z.number().int().min(0).max(86_400).default(60)
      .describe('kemihost, MySQL/PostgreSQL: seconds between reloads of the copy in memory (0: only at start and by the auth_db.reload RPC); the longest a change in the table goes unseen'),
    max_rows: z.number().int().min(1).max(50_000_000).default(1_000_000)
      .describe('kemihost, MySQL/PostgreSQL: a table with more rows is not loaded (the start fails, a reload keeps the old copy)'),
  })
  .strict();

export type AuthDbParams = z.output<typeof authDbParams>;

/** One load_credentials entry: the column and the pseudo-variable it goes to. */
export interface CredentialColumn {
  readonly column: string;
  readonly pv: string;
}

/**
 * Kamailio's parse_aaa_pvs: "pv=column" or "column" (then $avp(column)), separated by ';'.
 * `$avp(s:name)` names the same AVP as `$avp(name)` here. Throws on a malformed entry.
 */
export function parseLoadCredentials(spec: string): CredentialColumn[] {
  const out: CredentialColumn[] = [];
  for (const part of spec.split(';')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.lastIndexOf('=');
    const column = (eq < 0 ? item : item.slice(eq + 1)).trim();
    let pv = eq < 0 ? `$avp(${column})` : item.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(column) || pv === '') throw new Error(`load_credentials: cannot read "${item}" (expected $pv=column or column)`);
    pv = pv.replace(/^\$avp\(s:/, '$avp(');
    out.push({ column, pv });
  }
  return out;
}
