/**
 * Continual-learning metrics of a sequence of tasks (docs/tasks.md): after task k,
 * the accuracy on every task seen so far, their average, and each earlier task's
 * forgetting: the best accuracy it had after any earlier task minus its accuracy now
 * (Chaudhry et al. 2018's definition, as the spiking paper's "forgetting" is not given).
 */

/** The accuracies measured after each completed task: row r holds tasks 0..task(r). */
export interface TaskRecord {
  /** 0-based task just completed. */
  task: number;
  /** Accuracy on tasks 0..task, in order. */
  acc: number[];
}

export interface TaskMetrics {
  /** 1-based number of the task just completed. */
  task: number;
  /** Accuracy on every task seen so far (tasks 1..task), on the hold-out or test split restricted to each task's classes. */
  task_acc: number[];
  /** Mean of task_acc. */
  avg_acc: number;
  /** Best earlier accuracy minus the current one, for each task before this one (empty after the first). */
  forgetting: number[];
  /** Mean of forgetting; null after the first task. */
  avg_forgetting: number | null;
}

/** The metrics after the last record, given every record so far (in order). */
export function taskMetrics(records: readonly TaskRecord[]): TaskMetrics {
  const last = records[records.length - 1];
  if (!last) throw new RangeError('task metrics need at least one measured task');
  const forgetting: number[] = [];
  for (let task = 0; task < last.acc.length; task++) {
    if (task === last.task) continue;
    let best = -Infinity;
    for (const record of records.slice(0, -1)) {
      const acc = record.acc[task];
      if (acc !== undefined && acc > best) best = acc;
    }
    // A task first measured now (after a phase that skipped it) has nothing to forget yet.
    forgetting.push(best === -Infinity ? 0 : best - last.acc[task]!);
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return {
    task: last.task + 1,
    task_acc: [...last.acc],
    avg_acc: mean(last.acc),
    forgetting,
    avg_forgetting: forgetting.length > 0 ? mean(forgetting) : null,
  };
}
