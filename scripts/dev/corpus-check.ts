/**
 * Re-measure how far public KEMI scripts get under kemihost (docs/porting-status.md).
 *
 *   node --import tsx scripts/dev/corpus-check.ts            fetch each script of
 *       scripts/dev/corpus.json from raw.githubusercontent.com at its pinned commit into a
 *       temp dir, run `kemihost check --json` on it, print the table and the ranking
 *   ... corpus-check.ts --from <dir>                        use copies already in <dir>
 *       (named owner__repo__commit7__path, with '/' turned into '__'), for a machine without network
 *
 * The scripts are third-party (their own licences): only their addresses live in the
 * repository. This needs the network, so it is not part of `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Entry {
  readonly project: string;
  readonly path: string;
  readonly commit: string;
}
interface Finding {
  readonly line: number;
  readonly level: 'error' | 'warning';
  readonly text: string;
}
interface Report {
  readonly errors: number;
  readonly warnings: number;
  readonly findings: readonly Finding[];
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpus = (JSON.parse(readFileSync(join(root, 'scripts/dev/corpus.json'), 'utf8')) as { scripts: Entry[] }).scripts;

/** the KSR name a "does not have … yet" finding is about, or null for any other finding */
function missingName(text: string): string | null {
  const m = /^(KSR\.[\w.]+)(?::| is a Kamailio 5\.6 function| is tested or used as a value| runs a route block)/.exec(text);
  if (m === null || !/kemihost (does not have|has no native)/.test(text)) return null;
  return m[1] ?? null;
}

function localName(e: Entry): string {
  return `${e.project}/${e.commit.slice(0, 7)}/${e.path}`.replaceAll('/', '__');
}

async function obtain(e: Entry, dir: string, from: string | null): Promise<string | null> {
  const file = join(dir, localName(e));
  if (from !== null) {
    const src = join(from, localName(e));
    if (!existsSync(src)) return null;
    writeFileSync(file, readFileSync(src));
    return file;
  }
  const url = `https://raw.githubusercontent.com/${e.project}/${e.commit}/${e.path}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  if (!res.ok) return null;
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

function check(file: string): Report {
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--import', 'tsx', join(root, 'bin/kemihost.js'), 'check', '--json', file], { encoding: 'utf8', cwd: root, timeout: 60_000 });
  } catch (e) {
    // exit 1 (errors) and 2 (warnings) still print the report
    out = String((e as { stdout?: unknown }).stdout ?? '');
  }
  return JSON.parse(out) as Report;
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--from');
  const from = i >= 0 ? (process.argv[i + 1] ?? null) : null;
  const dir = mkdtempSync(join(tmpdir(), 'kemi-corpus-'));
  const uses = new Map<string, Set<string>>();
  let clean = 0;
  const rows: string[] = ['| project | script | language | errors | warnings | unknown / not-implemented names |', '|---|---|---|---|---|---|'];
  try {
    for (const e of corpus) {
      const file = await obtain(e, dir, from).catch(() => null);
      const lang = extname(e.path) === '.js' ? 'JS' : 'Lua';
      if (file === null) {
        rows.push(`| ${e.project} | ${e.path} | ${lang} | – | – | (not fetched) |`);
        continue;
      }
      const r = check(file);
      const names = new Set<string>();
      for (const f of r.findings) {
        const n = missingName(f.text);
        if (n !== null) names.add(n);
      }
      for (const n of names) uses.set(n, (uses.get(n) ?? new Set()).add(`${e.project}/${e.path}`));
      if (r.errors === 0 && r.warnings === 0) clean++;
      rows.push(`| ${e.project} | ${e.path} | ${lang} | ${String(r.errors)} | ${String(r.warnings)} | ${[...names].sort().join(', ')} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(rows.join('\n'));
  console.log(`\n${String(clean)} of ${String(corpus.length)} scripts check clean.\n`);
  console.log('| missing name | scripts using it |\n|---|---|');
  for (const [n, s] of [...uses].sort((a, b) => b[1].size - a[1].size || a[0].localeCompare(b[0]))) console.log(`| ${n} | ${String(s.size)} |`);
}

await main();
