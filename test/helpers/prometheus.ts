/**
 * A strict reader of the Prometheus text exposition format (0.0.4) for the metrics tests: it
 * throws on the first line a scraper would reject or misread, and returns the samples.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  /** family name → counter | gauge | histogram | summary | untyped */
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const VALUE = '(?:[-+]?(?:\\d+\\.?\\d*(?:[eE][-+]?\\d+)?|\\.\\d+(?:[eE][-+]?\\d+)?)|NaN|[+-]Inf)';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (${VALUE})(?: -?\\d+)?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"(,|$)/;

function parseLabels(s: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = s;
  while (rest !== '') {
    const m = LABEL.exec(rest);
    if (m === null) throw new Error(`${where}: bad label set {${s}}`);
    const [all, k = '', v = ''] = m;
    if (k in out) throw new Error(`${where}: label ${k} twice`);
    out[k] = v.replace(/\\(["\\n])/g, (_x, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(all.length);
  }
  return out;
}

/** The family a sample name belongs to, given the declared types. */
function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const t = types.get(base);
      if (t === 'histogram' || (t === 'summary' && suffix !== '_bucket')) return base;
    }
  }
  return undefined;
}

export function parsePrometheus(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const done = new Set<string>();
  let current = '';
  text.slice(0, -1).split('\n').forEach((line, i) => {
    const where = `line ${String(i + 1)} "${line}"`;
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) ?(.*)$`).exec(line);
      if (m === null) throw new Error(`${where}: bad comment line`);
      const [, kind, name = '', rest = ''] = m;
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`${where}: bad type`);
        if (types.has(name)) throw new Error(`${where}: TYPE given twice`);
        types.set(name, rest);
      }
      return;
    }
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`${where}: not a sample line`);
    const [, name = '', labelText, value = ''] = m;
    const family = familyOf(name, types);
    if (family === undefined) throw new Error(`${where}: no TYPE before the first sample of ${name}`);
    if (family !== current) {
      if (done.has(family)) throw new Error(`${where}: samples of ${family} are not together`);
      if (current !== '') done.add(current);
      current = family;
    }
    const v = value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : Number(value);
    samples.push({ name, labels: labelText === undefined ? {} : parseLabels(labelText, where), value: v });
  });
  return { types, samples };
}
