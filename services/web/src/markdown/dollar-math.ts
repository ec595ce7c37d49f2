// remark-math reads any `$…$` pair as inline math, so "costs $5 and $10" would turn "5 and " into
// a formula. Chat replies quote prices far more often than that, so after parsing, single-dollar
// inline math is kept only where it follows Pandoc's rule for TeX math: the opening `$` has a
// non-space right after it, the closing `$` a non-space right before it and no digit right after
// it. Anything else goes back to the literal text it was written as. `$$…$$` is never touched.

interface Node {
  type: string;
  value?: string;
  children?: Node[];
  position?: { start: { offset?: number }; end: { offset?: number } };
}

function isPrice(node: Node, source: string): boolean {
  const start = node.position?.start.offset;
  const end = node.position?.end.offset;
  if (start === undefined || end === undefined) return false;
  const raw = source.slice(start, end);
  if (raw.startsWith('$$')) return false;
  const inner = raw.slice(1, -1);
  return inner.length === 0 || /^\s/.test(inner) || /\s$/.test(inner) || /^\d/.test(source.charAt(end));
}

function revert(node: Node, source: string): void {
  node.children?.forEach((child, index, siblings) => {
    if (child.type === 'inlineMath' && isPrice(child, source)) {
      const { start, end } = child.position!;
      siblings[index] = {
        type: 'text',
        value: source.slice(start.offset, end.offset),
        position: child.position,
      };
    } else {
      revert(child, source);
    }
  });
}

/** Remark plugin (after remark-math): turns currency-like `$…$` inline math back into text. */
export default function remarkDollarPrices() {
  return (tree: Node, file: { value: unknown }) => revert(tree, String(file.value));
}
