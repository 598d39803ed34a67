/**
 * `tasks` in the data block: the source split into a sequence of incremental tasks by
 * class (docs/tasks.md). `tasks 5` splits the classes 0..K-1 into 5 consecutive groups
 * (as even as possible, the first ones one larger when K is not a multiple); `tasks [0, 1],
 * [2, 3]` names each task's classes. Tasks may not share a class unless the data block
 * says `task_overlap true`.
 */
import type { Setting } from '../syntax/ast.js';
import type { Environment } from './environment.js';
import type { Reporter } from './reporter.js';
import { settingValues } from './settings.js';
import { T } from './types.js';
import type { Value } from './values.js';

const CLASS_LIST = T.list(T.nonNegativeInt, 1);
const SINGLE_VALUE = T.union(T.positiveInt, CLASS_LIST);

/** `count` consecutive groups of the classes 0..classes-1, the first `classes % count` one larger. */
export function splitClasses(classes: number, count: number): number[][] {
  const tasks: number[][] = [];
  let next = 0;
  for (let task = 0; task < count; task++) {
    const size = Math.floor(classes / count) + (task < classes % count ? 1 : 0);
    tasks.push(Array.from({ length: size }, (_, i) => next + i));
    next += size;
  }
  return tasks;
}

/**
 * The tasks of a data block, checked against the class count (`classes`, undefined when
 * not known at compile time: then only the shape of the setting is checked). Undefined
 * without a `tasks` setting; null after reporting an error.
 */
export function resolveTasks(
  setting: Setting | undefined,
  overlapSetting: Setting | undefined,
  classes: number | undefined,
  env: Environment,
  reporter: Reporter,
): number[][] | undefined | null {
  let overlap = false;
  if (overlapSetting !== undefined) {
    const value = settingValues(overlapSetting, [T.boolean], env, reporter)?.[0];
    if (value === undefined) return null;
    overlap = value.kind === 'boolean' && value.value;
    if (setting === undefined) {
      reporter.warning('task-overlap-without-tasks', "'task_overlap' has no effect without 'tasks'", overlapSetting.name.loc, "split the source with 'tasks 5' or 'tasks [0, 1], [2, 3]'");
    }
  }
  if (setting === undefined) return undefined;
  const types = setting.values.length === 1 ? [SINGLE_VALUE] : setting.values.map(() => CLASS_LIST);
  const values = settingValues(setting, types, env, reporter);
  if (values === undefined) return null;
  const first = values[0]!;
  if (first.kind === 'number') return splitByCount(first, classes, reporter);
  return checkClassLists(values, classes, overlap, setting, reporter);
}

function splitByCount(count: Extract<Value, { kind: 'number' }>, classes: number | undefined, reporter: Reporter): number[][] | null {
  if (classes === undefined) {
    reporter.error('tasks-need-classes', `'tasks ${count.value}' splits the classes evenly, but the class count is not known before the data is read`, count.loc, "name each task's classes: 'tasks [0, 1], [2, 3]'");
    return null;
  }
  if (count.value > classes) {
    reporter.error('too-many-tasks', `'tasks ${count.value}' needs at least ${count.value} classes, but the data has ${classes}`, count.loc, `write at most 'tasks ${classes}' (one class per task)`);
    return null;
  }
  return splitClasses(classes, count.value);
}

function checkClassLists(values: Value[], classes: number | undefined, overlap: boolean, setting: Setting, reporter: Reporter): number[][] | null {
  const tasks: number[][] = [];
  const taskOf = new Map<number, number>();
  let ok = true;
  values.forEach((value, index) => {
    if (value.kind !== 'list') return;
    const task: number[] = [];
    for (const item of value.items) {
      if (item.kind !== 'number') continue;
      const label = item.value;
      if (classes !== undefined && label >= classes) {
        reporter.error('unknown-class', `task ${index + 1}: class ${label} is not in the data, which has classes 0..${classes - 1}`, item.loc);
        ok = false;
        continue;
      }
      if (task.includes(label)) {
        reporter.error('duplicate-class', `task ${index + 1} lists class ${label} twice`, item.loc);
        ok = false;
        continue;
      }
      const earlier = taskOf.get(label);
      if (earlier !== undefined && !overlap) {
        reporter.error(
          'overlapping-tasks',
          `class ${label} is in task ${earlier + 1} and task ${index + 1}; tasks must not share classes`,
          item.loc,
          "if the tasks are meant to share classes, write 'task_overlap true' in the data block",
        );
        ok = false;
        continue;
      }
      if (earlier === undefined) taskOf.set(label, index);
      task.push(label);
    }
    tasks.push(task);
  });
  if (!ok) return null;
  if (classes !== undefined && taskOf.size < classes) {
    const missing = Array.from({ length: classes }, (_, c) => c).filter((c) => !taskOf.has(c));
    reporter.warning('classes-in-no-task', `class${missing.length > 1 ? 'es' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} in no task: never trained on`, setting.name.loc);
  }
  return tasks;
}

/** A short description of tasks for summaries: `[0 1] [2 3] [4 5]`. */
export function describeTasks(tasks: readonly (readonly number[])[]): string {
  return tasks.map((task) => `[${task.join(' ')}]`).join(' ');
}

