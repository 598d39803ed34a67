/** `tasks` in the data block, `each task` and `regularize synapse_cost(...)` on phases. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitClasses } from '../../src/semantics/tasks.js';
import { compileOk, expectDiagnostic, plan } from './helpers.js';

const DATA = (settings: string) => `data synthetic(examples: 200, classes: 10, shape: [8, 8, 3]) {\n  batch 16\n${settings}\n}`;
const EACH = (body: string) => `schedule {\n  train p1 for 1 epoch with msgd(lr: 0.1)\n  train p2 for 2 epochs with sgd(lr: 0.05) {\n${body}\n  }\n}`;

describe('tasks in the data block', () => {
  it("'tasks 5' splits 10 classes into 5 consecutive pairs", () => {
    const ir = compileOk(plan({ data: DATA('  tasks 5') }));
    expect(ir.data.tasks).toEqual([[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]);
  });

  it('names the classes of each task; without tasks the IR has none', () => {
    expect(compileOk(plan({ data: DATA('  tasks [9, 0], [3]') })).data.tasks).toEqual([[9, 0], [3]]);
    expect(compileOk(plan()).data.tasks).toBeUndefined();
  });

  it('splitClasses covers every class once, in order, sizes differing by at most one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), (classes, count) => {
        fc.pre(count <= classes);
        const tasks = splitClasses(classes, count);
        expect(tasks).toHaveLength(count);
        expect(tasks.flat()).toEqual(Array.from({ length: classes }, (_, i) => i));
        const sizes = tasks.map((t) => t.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('refuses a class the data does not have', () => {
    const text = plan({ data: DATA('  tasks [0, 1], [2, 10]') });
    expectDiagnostic(text, { code: 'unknown-class', message: 'task 2: class 10 is not in the data, which has classes 0..9', at: '10]' });
  });

  it('refuses overlapping tasks unless task_overlap says so', () => {
    const text = plan({ data: DATA('  tasks [0, 1], [1, 2]') });
    expectDiagnostic(text, {
      code: 'overlapping-tasks',
      message: 'class 1 is in task 1 and task 2',
      at: '1, 2]',
      hint: "if the tasks are meant to share classes, write 'task_overlap true' in the data block",
    });
    expect(compileOk(plan({ data: DATA('  tasks [0, 1], [1, 2]\n  task_overlap true') })).data.tasks).toEqual([[0, 1], [1, 2]]);
  });

  it('refuses a class twice in one task, more tasks than classes, and a non-list', () => {
    expectDiagnostic(plan({ data: DATA('  tasks [0, 0]') }), { code: 'duplicate-class', at: '0]' });
    expectDiagnostic(plan({ data: DATA('  tasks 11') }), { code: 'too-many-tasks', hint: "write at most 'tasks 10' (one class per task)" });
    expectDiagnostic(plan({ data: DATA('  tasks [0], 3') }), { code: 'type-mismatch', message: "'tasks' expects a list" });
  });

  it('warns about classes in no task', () => {
    expectDiagnostic(plan({ data: DATA('  tasks [0, 1], [2, 3]') }), { code: 'classes-in-no-task', severity: 'warning', message: 'classes 4, 5, 6, 7, 8, 9 are in no task' });
  });

  it("suggests 'tasks' for a misspelling", () => {
    expectDiagnostic(plan({ data: DATA('  taks 5') }), { code: 'unknown-setting', at: 'taks', hint: "did you mean 'tasks'?" });
  });
});

describe('each task', () => {
  it('repeats the phase once per task, in order, with the regulariser', () => {
    const ir = compileOk(plan({ data: DATA('  tasks 5'), schedule: EACH('    each task\n    regularize synapse_cost(c: 0.5)') }));
    expect(ir.phases.map((p) => [p.name, p.task, p.epochs])).toEqual([
      ['p1', undefined, 1],
      ['p2.task1', 0, 2],
      ['p2.task2', 1, 2],
      ['p2.task3', 2, 2],
      ['p2.task4', 3, 2],
      ['p2.task5', 4, 2],
    ]);
    expect(ir.phases[1]!.synapseCost).toEqual({ c: 0.5, damping: 1e-3 });
    expect(ir.phases[0]!.synapseCost).toBeUndefined();
  });

  it('needs tasks in the data block', () => {
    expectDiagnostic(plan({ schedule: EACH('    each task') }), {
      code: 'no-tasks',
      at: 'each',
      hint: "add 'tasks 5' (or 'tasks [0, 1], [2, 3], ...') to the data block",
    });
  });

  it("takes only the word 'task', with a did-you-mean", () => {
    const d = expectDiagnostic(plan({ data: DATA('  tasks 5'), schedule: EACH('    each tsk') }), { code: 'unknown-value', at: 'tsk' });
    expect(d.hint).toBe("did you mean 'task'?");
  });
});

describe('regularize synapse_cost', () => {
  it('needs each task: consolidation happens at the end of a task', () => {
    expectDiagnostic(plan({ data: DATA('  tasks 5'), schedule: EACH('    regularize synapse_cost(c: 1)') }), {
      code: 'regularizer-needs-tasks',
      at: 'regularize',
      hint: "add 'each task' to the phase (and 'tasks ...' to the data block)",
    });
  });

  it('checks its arguments: c is required and >= 0, damping > 0', () => {
    const schedule = (args: string) => EACH(`    each task\n    regularize synapse_cost(${args})`);
    expectDiagnostic(plan({ data: DATA('  tasks 5'), schedule: schedule('damping: 0.1') }), { code: 'missing-argument' });
    expectDiagnostic(plan({ data: DATA('  tasks 5'), schedule: schedule('c: -1') }), { code: 'value-out-of-range' });
    expectDiagnostic(plan({ data: DATA('  tasks 5'), schedule: schedule('c: 1, damping: 0') }), { code: 'value-out-of-range' });
  });

  it('suggests synapse_cost for a misspelt regulariser', () => {
    const d = expectDiagnostic(plan({ data: DATA('  tasks 5'), schedule: EACH('    each task\n    regularize synapse_cots(c: 1)') }), { code: 'unknown-name', at: 'synapse_cots' });
    expect(d.hint).toContain('synapse_cost');
  });
});
