type Cell = string | number | boolean | null | undefined;

const show = (cell: Cell): string => {
  if (cell === null || cell === undefined) return '–';
  if (typeof cell === 'number') {
    if (Number.isNaN(cell)) return '–';
    return Math.abs(cell) >= 100 ? String(Math.round(cell)) : String(Math.round(cell * 100) / 100);
  }
  return String(cell);
};

/** Prints rows as an aligned plain-text table (numbers right-aligned) under a title. */
export function printTable(title: string, headers: string[], rows: Cell[][]): void {
  const text = rows.map((row) => row.map(show));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[], raw?: Cell[]) =>
    cells
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return typeof raw?.[i] === 'number' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ');
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  rows.forEach((row, i) => console.log(line(text[i] ?? [], row)));
}
