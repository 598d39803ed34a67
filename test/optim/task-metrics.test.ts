import { describe, expect, it } from 'vitest';
import { taskMetrics } from '../../src/optim/task-metrics.js';

describe('taskMetrics', () => {
  it('averages the seen tasks and takes forgetting as best earlier minus final', () => {
    const records = [
      { task: 0, acc: [0.9] },
      { task: 1, acc: [0.6, 0.95] },
      { task: 2, acc: [0.7, 0.5, 0.8] },
    ];
    expect(taskMetrics(records.slice(0, 1))).toEqual({ task: 1, task_acc: [0.9], avg_acc: 0.9, forgetting: [], avg_forgetting: null });
    const last = taskMetrics(records);
    expect(last.task).toBe(3);
    expect(last.avg_acc).toBeCloseTo((0.7 + 0.5 + 0.8) / 3, 12);
    // task 1: best 0.9 (after task 1), now 0.7; task 2: best 0.95, now 0.5.
    expect(last.forgetting[0]).toBeCloseTo(0.2, 12);
    expect(last.forgetting[1]).toBeCloseTo(0.45, 12);
    expect(last.avg_forgetting).toBeCloseTo(0.325, 12);
  });

  it('needs a record', () => {
    expect(() => taskMetrics([])).toThrow(RangeError);
  });
});
