/** Plain-text tables with padded columns: text left-aligned, numbers right-aligned. */

export interface Column {
  title: string;
  align?: 'left' | 'right';
}

export interface TableOptions {
  indent?: string;
  /** Print the column titles as a first line (default true). */
  header?: boolean;
}

export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  { indent = '  ', header = true }: TableOptions = {},
): string {
  const widths = columns.map((column, index) =>
    Math.max(header ? column.title.length : 0, ...rows.map((row) => (row[index] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    indent +
    columns
      .map((column, index) => {
        const cell = cells[index] ?? '';
        const width = widths[index]!;
        return column.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const body = rows.map(line);
  return (header ? [line(columns.map((column) => column.title)), ...body] : body).join('\n');
}
