/**
 * The permissions module's `address_file`: the address table as a text file, one record a line,
 * read the way Kamailio reads it (address.c, reload_address_file_table):
 *
 *   <group> <address> [<mask> [<port> [<tag>]]]     # a comment, to the end of the line
 *
 * Fields are separated by spaces or tabs; a missing mask is the full length (32/128), a missing
 * port is 0 (any), a missing tag is none. A number field that holds no digits reads as 0 and
 * the line goes on, as in Kamailio. A line with a group and nothing after it makes the whole
 * read fail.
 */
import { readFile } from 'node:fs/promises';
import type { AddressRow } from './address-table.js';

const WS = new Set([' ', '\t', '\r', '\n']);

export class AddressFileError extends Error {}

export function parseAddressFile(text: string): AddressRow[] {
  const rows: AddressRow[] = [];
  text.split('\n').forEach((line, n) => {
    let p = 0;
    const skipWs = (): void => { while (p < line.length && WS.has(line[p] ?? '')) p++; };
    const atEnd = (): boolean => p >= line.length || line[p] === '#';
    const num = (): number => {
      let v = 0;
      while (p < line.length && (line[p] ?? '') >= '0' && (line[p] ?? '') <= '9') v = v * 10 + Number(line[p++]);
      return v;
    };
    const token = (): string => {
      const start = p;
      while (p < line.length && !WS.has(line[p] ?? '') && line[p] !== '#') p++;
      return line.slice(start, p);
    };
    skipWs();
    if (atEnd()) return;
    const grp = num();
    skipWs();
    if (atEnd()) throw new AddressFileError(`line ${String(n + 1)}: a group and no address`);
    const ip = token();
    const row = { grp, ip, mask: 0, port: 0, tag: null as string | null };
    rows.push(row);
    skipWs();
    if (atEnd()) return;
    row.mask = num();
    skipWs();
    if (atEnd()) return;
    row.port = num();
    skipWs();
    if (atEnd()) return;
    row.tag = token();
  });
  return rows;
}

export async function readAddressFile(path: string): Promise<AddressRow[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new AddressFileError(`cannot read address_file ${path}: ${(e as Error).message}`);
  }
  try {
    return parseAddressFile(text);
  } catch (e) {
    throw new AddressFileError(`${path}: ${(e as Error).message}`);
  }
}
