/**
 * The order Kamailio walks its sets in: they live in an AVL tree keyed by set id, inserted as
 * the rows name them, and every walk (dispatcher.list, ds_is_from_list over all sets, the
 * rebuild of dispatcher.add/remove) goes children first — left, right, then the node. So sets
 * 1, 2, 3, 4, 7 read in that order are walked as 1, 3, 7, 4, 2; this computes that order.
 */
interface Node {
  readonly id: number;
  left: Node | null;
  right: Node | null;
  height: number;
}

const h = (n: Node | null): number => (n === null ? 0 : n.height);
const fix = (n: Node): Node => {
  n.height = Math.max(h(n.left), h(n.right)) + 1;
  return n;
};

function rotateRight(n: Node): Node {
  const l = n.left as Node;
  n.left = l.right;
  l.right = fix(n);
  return fix(l);
}

function rotateLeft(n: Node): Node {
  const r = n.right as Node;
  n.right = r.left;
  r.left = fix(n);
  return fix(r);
}

function insert(n: Node | null, id: number): Node {
  if (n === null) return { id, left: null, right: null, height: 1 };
  if (id === n.id) return n;
  if (id < n.id) n.left = insert(n.left, id);
  else n.right = insert(n.right, id);
  fix(n);
  const balance = h(n.left) - h(n.right);
  if (balance > 1) {
    if (id > (n.left as Node).id) n.left = rotateLeft(n.left as Node);
    return rotateRight(n);
  }
  if (balance < -1) {
    if (id < (n.right as Node).id) n.right = rotateRight(n.right as Node);
    return rotateLeft(n);
  }
  return n;
}

function postOrder(n: Node | null, out: number[]): void {
  if (n === null) return;
  postOrder(n.left, out);
  postOrder(n.right, out);
  out.push(n.id);
}

/** The walk order of the set ids, given the order they were first inserted in. */
export function walkOrder(inserted: Iterable<number>): number[] {
  let root: Node | null = null;
  for (const id of inserted) root = insert(root, id);
  const out: number[] = [];
  postOrder(root, out);
  return out;
}
