import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/runtime/backend.js';
import { kernelFamily, KernelTimer } from '../../bench/profile/kernel-timer.js';

describe('the profile kernel timer', () => {
  let timer: KernelTimer | undefined;
  beforeAll(async () => {
    await selectBackend({ force: 'cpu' });
  });
  afterEach(() => timer?.uninstall());

  it('charges every kernel of a forward and backward pass to its context, and puts the kernels back', () => {
    const original = tf.getKernel('Conv2D', 'cpu');
    timer = new KernelTimer();
    timer.install('cpu');
    expect(tf.getKernel('Conv2D', 'cpu')).not.toBe(original);
    const x = tf.ones([2, 5, 5, 3]) as tf.Tensor4D;
    const filter = tf.variable(tf.ones([3, 3, 3, 4]));
    const { grads } = timer.within('step', () => tf.variableGrads(() => tf.sum(tf.relu(tf.conv2d(x, filter as tf.Tensor4D, 1, 'same'))) as tf.Scalar, [filter]));
    const step = timer.totals.get('step')!;
    expect(step.get('Conv2D')?.calls).toBe(1);
    expect(step.get('Conv2DBackpropFilter')?.calls).toBe(1);
    expect(step.get('Relu')?.calls).toBe(1);
    expect(timer.totalMs('step')).toBeGreaterThan(0);
    expect(timer.totalMs()).toBe(timer.totalMs('step'));
    timer.setContext('other');
    tf.add(x, 1).dispose();
    expect(timer.totals.get('other')?.get('Add')?.calls).toBe(1);
    timer.uninstall();
    expect(tf.getKernel('Conv2D', 'cpu')).toBe(original);
    tf.dispose([x, filter, ...Object.values(grads)]);
    timer = undefined;
  });

  it('groups kernels into the families of the profile table', () => {
    expect(kernelFamily('Conv2D')).toBe('conv forward');
    expect(kernelFamily('Conv2DBackpropInput')).toBe('conv backprop input');
    expect(kernelFamily('Conv2DBackpropFilter')).toBe('conv backprop filter');
    expect(kernelFamily('MonoBatchNormTrainInputGrad')).toBe('BatchNorm kernels');
    expect(kernelFamily('MaxPoolGrad')).toBe('pooling (forward and backward)');
    expect(kernelFamily('Mean')).toMatch(/^reductions/);
    expect(kernelFamily('Multiply')).toBe('elementwise and other kernels');
  });
});
