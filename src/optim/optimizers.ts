import * as tf from '@tensorflow/tfjs-core';
import type { GradientOptimizerSpec, LrMultiplier } from '../ir/types.js';
import { globMatch } from '../ir/glob.js';

/**
 * A zero-filled, non-trainable variable shaped like `like`. A variable shares its
 * initial tensor's data, so that tensor is made inside a tidy: otherwise it stays
 * counted (and alive) after the variable is disposed.
 */
function zeroSlot(like: tf.Variable): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zerosLike(like), false));
}

/** One parameter as an optimizer sees it. */
export interface OptimizedParam {
  /** ParamSpec name: what gradients are keyed by and what lr-multiplier globs match. */
  name: string;
  variable: tf.Variable;
  /** ParamSpec.lrMult (plan-wide multipliers, already multiplied together). */
  lrMult: number;
  /** Further names a phase's lr multiplier may name: the parameter's sections and partition. */
  tags: readonly string[];
  /** Group for a per-group lr (the owning partition). */
  group: string;
}

/** The values the schedules give for one step. */
export interface StepHyper {
  lr: number;
  /** Heavy-ball momentum (msgd, rmsprop); beta1 for adam; ignored by sgd. */
  momentum: number;
  /** Per-group lr that replaces `lr` for a group's parameters (layer-wise MI lr); undefined keeps `lr`. */
  lrOfGroup?: (group: string) => number | undefined;
}

export interface SlotValues {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Everything needed to continue optimizing exactly where a checkpoint left off. */
export interface OptimizerState {
  type: GradientOptimizerSpec['type'];
  steps: number;
  /** Products of adam's betas over the steps taken (bias correction). */
  beta1Power: number;
  beta2Power: number;
  slots: SlotValues[];
}

/** The slots an optimizer keeps per parameter, as checkpoints name them (`<param>/<slot>`). */
export function slotKinds(spec: GradientOptimizerSpec): ('first' | 'second')[] {
  switch (spec.type) {
    case 'adam':
      return ['first', 'second'];
    case 'msgd':
      return ['first'];
    case 'rmsprop':
      // The momentum buffer exists only with momentum.
      return spec.momentum > 0 ? ['first', 'second'] : ['second'];
    default:
      return [];
  }
}

/** ParamSpec.lrMult times every phase multiplier whose pattern matches the name or one of the tags. */
export function lrMultiplierOf(param: Pick<OptimizedParam, 'name' | 'lrMult' | 'tags'>, multipliers: readonly LrMultiplier[]): number {
  let factor = param.lrMult;
  for (const m of multipliers) {
    if (globMatch(m.pattern, param.name) || param.tags.some((tag) => globMatch(m.pattern, tag))) factor *= m.factor;
  }
  return factor;
}

interface ParamSlots {
  param: OptimizedParam;
  multiplier: number;
  /** msgd: velocity v = theta - theta_prev; adam: first moment; rmsprop (momentum > 0): momentum buffer. */
  first?: tf.Variable;
  /** adam: second moment; rmsprop: running mean of g^2. */
  second?: tf.Variable;
}

/**
 * msgd (heavy ball): theta' = theta - lr*(g + wd*theta) + mu*(theta - theta_prev), kept in
 * velocity form v' = mu*v - lr*(g + wd*theta), theta' = theta + v' (v = theta - theta_prev,
 * so the two are the same even when lr and mu change per step).
 * sgd: theta' = theta - lr*(g + wd*theta).
 * LARS (msgd/sgd): lr is multiplied per parameter by eta*||w|| / (||g|| + wd*||w||)
 * (1 when either norm is 0).
 * adam: decoupled weight decay (AdamW): theta' = theta - lr*(m^/(sqrt(v^) + eps) + wd*theta),
 * so the decay is not rescaled by the adaptive denominator.
 * rmsprop (Tieleman & Hinton; as PyTorch's RMSprop, centered off): d = g + wd*theta (L2
 * through the gradient, as PyTorch), s' = rho*s + (1-rho)*d^2, u = d / (sqrt(s') + eps);
 * without momentum theta' = theta - lr*u, with it b' = mu*b + u, theta' = theta - lr*b'.
 */
export class Optimizer {
  readonly spec: GradientOptimizerSpec;
  private readonly params: ParamSlots[];
  private steps = 0;
  private beta1Power = 1;
  private beta2Power = 1;

  constructor(spec: GradientOptimizerSpec, params: readonly OptimizedParam[], lrMultipliers: readonly LrMultiplier[] = []) {
    this.spec = spec;
    this.params = params.map((param) => {
      const slots: ParamSlots = { param, multiplier: lrMultiplierOf(param, lrMultipliers) };
      if (spec.type === 'msgd' || spec.type === 'adam' || (spec.type === 'rmsprop' && spec.momentum > 0)) slots.first = zeroSlot(param.variable);
      if (spec.type === 'adam' || spec.type === 'rmsprop') slots.second = zeroSlot(param.variable);
      return slots;
    });
  }

  /** The effective lr multiplier of each parameter (for reports and tests). */
  multipliers(): Map<string, number> {
    return new Map(this.params.map((p) => [p.param.name, p.multiplier]));
  }

  /** The lr a parameter's update uses this step: its group's (or the phase's) lr times its multiplier. */
  stepLr(name: string, hyper: StepHyper): number {
    const slots = this.params.find((p) => p.param.name === name);
    if (!slots) return hyper.lr;
    return (hyper.lrOfGroup?.(slots.param.group) ?? hyper.lr) * slots.multiplier;
  }

  /** Applies one update. `grads` is keyed by parameter name; parameters without a gradient stay. */
  step(grads: ReadonlyMap<string, tf.Tensor>, hyper: StepHyper): void {
    this.steps++;
    const spec = this.spec;
    if (spec.type === 'adam') {
      this.beta1Power *= hyper.momentum;
      this.beta2Power *= spec.beta2;
    }
    for (const slots of this.params) {
      const grad = grads.get(slots.param.name);
      if (!grad) continue;
      const groupLr = hyper.lrOfGroup?.(slots.param.group);
      const lr = (groupLr ?? hyper.lr) * slots.multiplier;
      tf.tidy(() => {
        if (spec.type === 'adam') this.adamStep(slots, grad, lr, hyper.momentum, spec.beta2, spec.epsilon, spec.weightDecay);
        else if (spec.type === 'rmsprop') this.rmspropStep(slots, grad, lr, hyper.momentum, spec.rho, spec.epsilon, spec.weightDecay);
        else this.sgdStep(slots, grad, lr, spec.type === 'msgd' ? hyper.momentum : 0, spec.weightDecay, spec.lars?.eta);
      });
    }
  }

  async getState(): Promise<OptimizerState> {
    const slots: SlotValues[] = [];
    for (const { name, variable } of this.slotVariables()) {
      // A copy: the cpu backend hands out its own buffer.
      slots.push({ name, shape: [...variable.shape], values: Float32Array.from((await variable.data()) as Float32Array) });
    }
    return { ...this.scalars(), slots };
  }

  /** The state without the slots' values (a checkpoint writer reads those one at a time). */
  scalars(): Omit<OptimizerState, 'slots'> {
    return { type: this.spec.type, steps: this.steps, beta1Power: this.beta1Power, beta2Power: this.beta2Power };
  }

  /** The slot variables under the names checkpoints give them (`<param>/first`, `<param>/second`). */
  slotVariables(): { name: string; variable: tf.Variable }[] {
    const slots: { name: string; variable: tf.Variable }[] = [];
    for (const { param, first, second } of this.params) {
      for (const kind of slotKinds(this.spec)) {
        const variable = kind === 'first' ? first : second;
        if (variable) slots.push({ name: `${param.name}/${kind}`, variable });
      }
    }
    return slots;
  }

  /** Restores slots by name; slots of parameters not in `state` (or of another shape) stay zero. */
  setState(state: OptimizerState): void {
    if (state.type !== this.spec.type) return;
    this.steps = state.steps;
    this.beta1Power = state.beta1Power;
    this.beta2Power = state.beta2Power;
    const byName = new Map(state.slots.map((s) => [s.name, s]));
    const restore = (slot: tf.Variable | undefined, key: string) => {
      const saved = byName.get(key);
      if (!slot || !saved || saved.values.length !== slot.size) return;
      tf.tidy(() => slot.assign(tf.tensor(saved.values, slot.shape, 'float32')));
    };
    for (const { param, first, second } of this.params) {
      restore(first, `${param.name}/first`);
      restore(second, `${param.name}/second`);
    }
  }

  dispose(): void {
    for (const { first, second } of this.params) {
      first?.dispose();
      second?.dispose();
    }
  }

  private sgdStep(slots: ParamSlots, grad: tf.Tensor, lr: number, momentum: number, weightDecay: number, larsEta: number | undefined): void {
    const theta = slots.param.variable;
    const direction = weightDecay > 0 ? tf.add(grad, tf.mul(theta, weightDecay)) : grad;
    let rate: tf.Tensor = tf.scalar(lr);
    if (larsEta !== undefined) {
      const weightNorm = tf.norm(theta);
      const gradNorm = tf.norm(grad);
      const trust = tf.div(tf.mul(weightNorm, larsEta), tf.add(gradNorm, tf.mul(weightNorm, weightDecay)));
      const defined = tf.logicalAnd(tf.greater(weightNorm, 0), tf.greater(gradNorm, 0));
      rate = tf.mul(rate, tf.where(defined, trust, tf.onesLike(trust)));
    }
    const update = tf.mul(direction, rate);
    if (slots.first) {
      const velocity = tf.sub(tf.mul(slots.first, momentum), update);
      slots.first.assign(velocity);
      theta.assign(tf.add(theta, velocity));
    } else {
      theta.assign(tf.sub(theta, update));
    }
  }

  private adamStep(slots: ParamSlots, grad: tf.Tensor, lr: number, beta1: number, beta2: number, epsilon: number, weightDecay: number): void {
    const theta = slots.param.variable;
    const first = slots.first!;
    const second = slots.second!;
    const m = tf.add(tf.mul(first, beta1), tf.mul(grad, 1 - beta1));
    const v = tf.add(tf.mul(second, beta2), tf.mul(tf.square(grad), 1 - beta2));
    first.assign(m);
    second.assign(v);
    const mHat = tf.div(m, 1 - this.beta1Power);
    const vHat = tf.div(v, 1 - this.beta2Power);
    let direction = tf.div(mHat, tf.add(tf.sqrt(vHat), epsilon));
    if (weightDecay > 0) direction = tf.add(direction, tf.mul(theta, weightDecay));
    theta.assign(tf.sub(theta, tf.mul(direction, lr)));
  }

  private rmspropStep(slots: ParamSlots, grad: tf.Tensor, lr: number, momentum: number, rho: number, epsilon: number, weightDecay: number): void {
    const theta = slots.param.variable;
    const meanSquare = slots.second!;
    const direction = weightDecay > 0 ? tf.add(grad, tf.mul(theta, weightDecay)) : grad;
    const s = tf.add(tf.mul(meanSquare, rho), tf.mul(tf.square(direction), 1 - rho));
    meanSquare.assign(s);
    let update = tf.div(direction, tf.add(tf.sqrt(s), epsilon));
    // The buffer exists only when the spec's momentum is > 0; a momentum schedule then drives mu.
    if (slots.first) {
      update = tf.add(tf.mul(slots.first, momentum), update);
      slots.first.assign(update);
    }
    theta.assign(tf.sub(theta, tf.mul(update, lr)));
  }
}
