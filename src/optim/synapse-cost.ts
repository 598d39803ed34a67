/**
 * Cost per synapse: synaptic intelligence (Zenke, Poole & Ganguli, ICML 2017) as the
 * spiking-network paper uses it against catastrophic forgetting (docs/tasks.md).
 *
 * While task T trains, each weight accumulates its share of the loss decrease along its
 * path: omega += -g * dtheta per step, with g the gradient of the task's own loss (not of
 * the penalty) and dtheta the update the optimizer applied. At the end of the task
 *   Omega += omega / ((theta_end - theta_start)^2 + damping),  theta* = theta_end,
 * and every later task adds c * sum_k Omega_k (theta_k - theta*_k)^2 to its loss: the
 * gradient 2c * Omega * (theta - theta*) is added to g before the optimizer's update.
 *
 * The stiffness 2c * Omega of a weight is capped at 1 / lr (its step's lr). A weight that
 * barely moved in a task has Omega up to omega / damping, and an explicit gradient step
 * on a quadratic of stiffness k diverges once lr * k > 2 (2 (1 + momentum) with heavy
 * ball): measured on plans/incremental.mono, c = 0.3 without the cap reached a loss of
 * 1e21 in the fourth task. At the cap the weight is pulled most of the way back to
 * theta* in one step, as stiff as a stable step can be.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SynapseCostSpec } from '../ir/types.js';
import type { OptimizedParam, SlotValues } from './optimizers.js';

/** The tensors kept per weight, as checkpoints name them (`<param>/<kind>`). */
export const SYNAPSE_TENSORS = ['omega', 'importance', 'anchor', 'start'] as const;
export type SynapseTensorKind = (typeof SYNAPSE_TENSORS)[number];

interface WeightState {
  /** Path integral of -g * dtheta over the current task. */
  omega: tf.Variable;
  /** Omega: the consolidated importance of all earlier tasks. */
  importance: tf.Variable;
  /** theta*: the weight at the end of the last consolidated task. */
  anchor: tf.Variable;
  /** The weight at the start of the current task. */
  start: tf.Variable;
}

export interface SynapseCostState {
  /** Tasks consolidated so far (0: no penalty yet). */
  consolidated: number;
  tensors: SlotValues[];
}

export class SynapseCost {
  private readonly weights = new Map<string, WeightState>();
  private params: readonly OptimizedParam[] = [];
  private spec: SynapseCostSpec = { c: 0, damping: 1e-3 };
  /** Tasks consolidated so far. */
  consolidated = 0;

  /** The phase's weights and settings; weights seen for the first time get zero importance. */
  attach(params: readonly OptimizedParam[], spec: SynapseCostSpec): void {
    this.params = params;
    this.spec = spec;
    for (const param of params) {
      if (this.weights.has(param.name)) continue;
      const like = param.variable;
      const zeros = () => tf.tidy(() => tf.variable(tf.zerosLike(like), false));
      this.weights.set(param.name, {
        omega: zeros(),
        importance: zeros(),
        anchor: tf.tidy(() => tf.variable(like.clone(), false)),
        start: tf.tidy(() => tf.variable(like.clone(), false)),
      });
    }
  }

  /** A task starts: its path integral restarts at 0 from the weights as they are now. */
  beginTask(): void {
    for (const param of this.params) {
      const state = this.weights.get(param.name)!;
      tf.tidy(() => {
        state.omega.assign(tf.zerosLike(state.omega));
        state.start.assign(param.variable);
      });
    }
  }

  /**
   * One step: `update` applies the optimizer to the gradients with the penalty's gradient
   * added (once a task is consolidated); omega then accumulates -g * dtheta with the task's
   * own gradient g.
   */
  step(grads: ReadonlyMap<string, tf.Tensor>, lrOf: (param: string) => number, update: (grads: ReadonlyMap<string, tf.Tensor>) => void): void {
    const before = new Map<string, tf.Tensor>();
    const penalized = new Map<string, tf.Tensor>(grads);
    const added: tf.Tensor[] = [];
    const penalize = this.consolidated > 0 && this.spec.c > 0;
    for (const param of this.params) {
      const grad = grads.get(param.name);
      if (!grad) continue;
      const state = this.weights.get(param.name)!;
      before.set(param.name, param.variable.clone());
      if (penalize) {
        const lr = lrOf(param.name);
        const total = tf.tidy(() => {
          const stiffness = tf.mul(state.importance, 2 * this.spec.c);
          const capped = lr > 0 ? tf.minimum(stiffness, 1 / lr) : stiffness;
          return tf.add(grad, tf.mul(capped, tf.sub(param.variable, state.anchor)));
        });
        penalized.set(param.name, total);
        added.push(total);
      }
    }
    update(penalized);
    for (const param of this.params) {
      const grad = grads.get(param.name);
      const previous = before.get(param.name);
      if (!grad || !previous) continue;
      const state = this.weights.get(param.name)!;
      tf.tidy(() => state.omega.assign(tf.sub(state.omega, tf.mul(grad, tf.sub(param.variable, previous)))));
    }
    tf.dispose([...before.values(), ...added]);
  }

  /** The task ends: Omega += omega / ((theta - theta_start)^2 + damping); theta* = theta. */
  endTask(): void {
    for (const param of this.params) {
      const state = this.weights.get(param.name)!;
      tf.tidy(() => {
        const moved = tf.square(tf.sub(param.variable, state.start));
        state.importance.assign(tf.add(state.importance, tf.div(state.omega, tf.add(moved, this.spec.damping))));
        state.anchor.assign(param.variable);
        state.omega.assign(tf.zerosLike(state.omega));
      });
    }
    this.consolidated++;
  }

  /** c * sum Omega (theta - theta*)^2 over the attached weights (0 before the first consolidation). */
  penalty(): number {
    if (this.consolidated === 0 || this.spec.c === 0) return 0;
    let total = 0;
    for (const param of this.params) {
      const state = this.weights.get(param.name)!;
      const value = tf.tidy(() => tf.sum(tf.mul(state.importance, tf.square(tf.sub(param.variable, state.anchor)))));
      total += value.dataSync()[0]!;
      value.dispose();
    }
    return this.spec.c * total;
  }

  /** The per-weight tensors under checkpoint names (`<param>/omega`, ...), read when asked. */
  tensors(): { name: string; variable: tf.Variable }[] {
    const list: { name: string; variable: tf.Variable }[] = [];
    for (const [name, state] of this.weights) for (const kind of SYNAPSE_TENSORS) list.push({ name: `${name}/${kind}`, variable: state[kind] });
    return list;
  }

  /** One tensor's values (a copy), for tests and tools. */
  values(param: string, kind: SynapseTensorKind): Float32Array {
    const state = this.weights.get(param);
    if (!state) throw new RangeError(`no synapse state for ${param}`);
    return Float32Array.from(state[kind].dataSync() as Float32Array);
  }

  getState(): SynapseCostState {
    return {
      consolidated: this.consolidated,
      tensors: this.tensors().map(({ name, variable }) => ({ name, shape: [...variable.shape], values: Float32Array.from(variable.dataSync() as Float32Array) })),
    };
  }

  /** Restores a saved state: weights named in it get their tensors (created here if new). */
  setState(state: SynapseCostState): void {
    this.consolidated = state.consolidated;
    const byWeight = new Map<string, Map<string, SlotValues>>();
    for (const tensor of state.tensors) {
      const cut = tensor.name.lastIndexOf('/');
      const weight = tensor.name.slice(0, cut);
      const map = byWeight.get(weight) ?? new Map<string, SlotValues>();
      map.set(tensor.name.slice(cut + 1), tensor);
      byWeight.set(weight, map);
    }
    for (const [weight, saved] of byWeight) {
      const existing = this.weights.get(weight);
      const make = (kind: SynapseTensorKind) => {
        const values = saved.get(kind);
        if (!values) throw new RangeError(`synapse state of ${weight} lacks its ${kind}`);
        return tf.tidy(() => tf.variable(tf.tensor(values.values, values.shape, 'float32'), false));
      };
      if (existing) for (const kind of SYNAPSE_TENSORS) existing[kind].dispose();
      this.weights.set(weight, { omega: make('omega'), importance: make('importance'), anchor: make('anchor'), start: make('start') });
    }
  }

  dispose(): void {
    for (const state of this.weights.values()) for (const kind of SYNAPSE_TENSORS) state[kind].dispose();
    this.weights.clear();
  }
}
