/**
 * sqlops' parameters, with Kamailio's names: `sqlcon` ("name=>db_url", one or more), `sqlres`
 * (result names declared up front), `results_maxsize`, `connect_mode`, `tr_buf_size`, and one
 * of ours, `results_maxrows`, that bounds what one result may hold.
 */
import { z } from 'zod';
import { parseDbUrl, redactDbUrl } from '../../host/db/url.js';

export interface SqlConDef {
  readonly name: string;
  readonly url: string;
}

/** "cb=>mysql://user:pass@host/db" as Kamailio's sql_parse_param reads it; a string saying what is wrong otherwise */
export function parseSqlcon(raw: string): SqlConDef | string {
  const m = /^\s*([^=\s]+)\s*=>\s*(.*?)\s*$/s.exec(raw);
  if (m === null) return `sqlcon "${redactDbUrl(raw)}": expected "name=>db_url"`;
  const name = m[1] ?? '';
  const url = m[2] ?? '';
  try {
    parseDbUrl(url, '/');
  } catch (e) {
    // the message shows the URL redacted (host/db/url.ts)
    return `sqlcon ${name}: ${(e as Error).message}`;
  }
  return { name, url };
}

const oneOrMore = z.union([z.string().min(1).transform((s) => [s]), z.array(z.string().min(1)).max(256)]);

export const params = z
  .object({
    sqlcon: oneOrMore.default([]).superRefine((list, ctx) => {
      const seen = new Set<string>();
      for (const raw of list) {
        const c = parseSqlcon(raw);
        if (typeof c === 'string') ctx.addIssue({ code: 'custom', message: c });
        else if (seen.has(c.name)) ctx.addIssue({ code: 'custom', message: `sqlcon ${c.name}: duplicate connection name` });
        else seen.add(c.name);
      }
    }).describe(
      'database connections, "name=>db_url" (a string or a list): the name is what sql_query() and $sqlrows() take; ' +
        'db_url in the store layer\'s forms (sqlite:///abs/path.db, sqlite://path.db relative to the config file, mysql://user:pass@host/db, postgres://user:pass@host/db); ' +
        'two names with the same URL share one pool',
    ),
    sqlres: oneOrMore.default([]).describe(
      'result names to create at start (Kamailio: so other modules see them). Optional here: a result is also created by the first query that names it; both count against results_maxsize',
    ),
    results_maxsize: z.number().int().min(1).max(10_000).default(32).describe(
      'result containers ($dbr names) at most, declared or created by queries; a query naming one more fails with -1',
    ),
    results_maxrows: z.number().int().min(1).max(1_000_000).default(10_000).describe(
      'kemihost: rows one query may return into a result, an xavp or PVs; a query returning more fails with -1 (add a LIMIT)',
    ),
    connect_mode: z.number().int().min(0).max(1).default(0).describe(
      'at start, each connection is tried: 0 = a connection that fails stops the start-up; 1 = it is logged and tried again at its first query',
    ),
    tr_buf_size: z.number().int().min(1).default(2048).describe(
      'Kamailio: buffer of the {sql.*} transformations, which KEMI scripts do not use; accepted, changes nothing',
    ),
  })
  .strict();

export type Params = z.infer<typeof params>;
