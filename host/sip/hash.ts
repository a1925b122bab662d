/** FNV-1a, 32 bit: cheap, stable identifiers (To-tags, stateless branches) from message fields. */
export function fnv1a(...parts: string[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      h ^= p.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0x7c; // separator, so ("ab","c") and ("a","bc") differ
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
