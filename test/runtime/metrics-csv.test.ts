import { fc, test as property } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { metricsCsv } from '../../src/runtime/metrics-csv.js';
import type { EpochMetrics } from '../../src/runtime/trainer.js';

function line(phase: string, extra: Partial<EpochMetrics> = {}): EpochMetrics {
  return {
    phase,
    epoch: 1,
    epochs: 1,
    head: 'network',
    loss: 0.5,
    acc: 0.75,
    val_loss: null,
    val_acc: null,
    test_loss: null,
    test_acc: null,
    mi: null,
    lr: 0.1,
    momentum: 0.9,
    lr_groups: { [phase]: 0.1 },
    mi_groups: null,
    seconds: 2,
    examples_per_s: 100,
    ...extra,
  };
}

/** RFC 4180 reader (quoted fields may hold commas, quotes and line breaks), for checking what metricsCsv writes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  return rows;
}

describe('metricsCsv', () => {
  it('has the union of the lines\' keys as columns, nested ones dotted, in a stable order; null is an empty cell', () => {
    const lines = [
      line('p1', { val_loss: 0.6, mi_groups: { p1: 0.3 } }),
      line('p2', { lr_groups: { p2: 0.05 }, lr_bounds: { min: 0.01, max: 0.2 }, lr_bounds_source: 'lr-find' }),
      line('finetune', { lr_groups: { p1: 0.01, p2: 0.02 } }),
    ];
    const rows = parseCsv(metricsCsv(lines));
    expect(rows[0]).toEqual([
      'phase', 'epoch', 'epochs', 'head', 'loss', 'acc', 'val_loss', 'val_acc', 'test_loss', 'test_acc', 'mi', 'lr', 'momentum',
      'lr_groups.p1', 'lr_groups.p2', 'mi_groups.p1', 'lr_bounds.min', 'lr_bounds.max', 'lr_bounds_source', 'seconds', 'examples_per_s',
    ]);
    expect(rows).toHaveLength(4);
    const cell = (row: number, column: string) => rows[row]![rows[0]!.indexOf(column)];
    expect(cell(1, 'val_loss')).toBe('0.6');
    expect(cell(2, 'val_loss')).toBe('');
    expect(cell(1, 'lr_groups.p2')).toBe('');
    expect(cell(3, 'lr_groups.p2')).toBe('0.02');
    expect(cell(2, 'lr_bounds.max')).toBe('0.2');
    expect(cell(3, 'examples_per_s')).toBe('100');
  });

  it('puts keys it does not know after the known ones, in the order they first appear', () => {
    const lines = [{ ...line('p1'), zeta: 1 }, { ...line('p1'), alpha: 'a' }] as unknown as EpochMetrics[];
    expect(parseCsv(metricsCsv(lines))[0]!.slice(-4)).toEqual(['seconds', 'examples_per_s', 'zeta', 'alpha']);
  });

  it('is empty without lines', () => {
    expect(metricsCsv([])).toBe('');
  });

  property.prop([fc.array(fc.tuple(fc.string(), fc.double({ noNaN: true })), { minLength: 1, maxLength: 6 })])(
    'reads back to the same phase names and numbers, whatever the names hold',
    (entries) => {
      const lines = entries.map(([phase, loss]) => line(phase, { loss }));
      const rows = parseCsv(metricsCsv(lines));
      expect(rows).toHaveLength(lines.length + 1);
      for (const [i, [phase, loss]] of entries.entries()) {
        expect(rows[i + 1]![0]).toBe(phase);
        // == : a -0 is written as 0.
        expect(Number(rows[i + 1]![4]) == loss).toBe(true);
      }
    },
  );
});
