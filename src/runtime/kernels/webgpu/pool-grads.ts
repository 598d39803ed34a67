// MaxPoolGrad and AvgPoolGrad for tfjs-backend-webgpu, as WGSL programs run through
// the backend's own program runner. The shipped kernels are wrong in two ways
// (measured against the cpu backend, docs/kernels.md):
// - MaxPoolGrad sends a window's gradient to its *last* largest input (`>=`), where
//   cpu and wasm send it to the first; after a ReLU, windows of equal zeros are common.
// - AvgPoolGrad divides every share by the full window, where the forward pass divides
//   by the window's in-bounds count ('same' padding), as tfjs-backend-cpu did.
// Both programs gather: one invocation per input element sums over the output windows
// that cover it, so no atomics and a fixed summation order.
import * as tf from '@tensorflow/tfjs-core';
import { webgpu_util, type WebGPUBackend, type WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

const WEBGPU = 'webgpu';
type Shape4 = [number, number, number, number];
type PoolAttrs = tf.MaxPoolGradAttrs;

function poolInfo(inputShape: number[], attrs: PoolAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(inputShape as Shape4, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
}

/** The window geometry every program here takes, in this order, as uniforms. */
const GEOMETRY_UNIFORMS = 'strides : vec2<i32>, pads : vec2<i32>, filterDims : vec2<i32>,';

function geometry(info: tf.backend_util.Conv2DInfo): { type: string; data: number[] }[] {
  return [
    { type: 'int32', data: [info.strideHeight, info.strideWidth] },
    { type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
    { type: 'int32', data: [info.filterHeight, info.filterWidth] },
  ];
}

/** A flat program: one invocation per output element, `index` its flat index. */
function flatProgram(outputShape: number[], variableNames: string[], shaderKey: string, uniforms: string, body: string): WebGPUProgram {
  const workgroupSize: [number, number, number] = [64, 1, 1];
  const dispatchLayout = webgpu_util.flatDispatchLayout(outputShape);
  return {
    outputShape,
    variableNames,
    shaderKey,
    uniforms,
    size: true,
    workgroupSize,
    dispatchLayout,
    dispatch: webgpu_util.computeDispatch(dispatchLayout, outputShape, workgroupSize),
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`,
  };
}

/**
 * For each output window, the position (wR * filterWidth + wC) of its first largest
 * in-bounds input in row-major order, as tfjs-backend-cpu's maxPoolPositions picks it:
 * a value is taken only when strictly greater, so NaN and -Infinity never are (-1 then);
 * the first candidate must be at least -FLT_MAX (0xff7fffff).
 */
function firstMaxPositionsProgram(outShape: number[]): WebGPUProgram {
  return flatProgram(outShape, ['x'], 'monoMaxPoolFirstPositions', GEOMETRY_UNIFORMS, `
          let coords = getCoordsFromIndex(index);
          let corner = vec2<i32>(coords.yz) * uniforms.strides - uniforms.pads;
          var best = 0.0;
          var position = -1;
          for (var wR = 0; wR < uniforms.filterDims.x; wR++) {
            let xR = corner.x + wR;
            if (xR < 0 || xR >= uniforms.xShape.y) { continue; }
            for (var wC = 0; wC < uniforms.filterDims.y; wC++) {
              let xC = corner.y + wC;
              if (xC < 0 || xC >= uniforms.xShape.z) { continue; }
              let value = getX(coords.x, xR, xC, coords.w);
              if ((position < 0 && value >= bitcast<f32>(0xff7fffffu)) || (position >= 0 && value > best)) {
                best = value;
                position = wR * uniforms.filterDims.y + wC;
              }
            }
          }
          setOutputAtIndexI32(index, position);`);
}

/**
 * The loop over the windows that cover input element (coords.y, coords.z): rows oh
 * with oh*s - pad <= r <= oh*s - pad + f - 1, clamped to dy; `visit` sees oh, ow and
 * the element's place in the window (wR, wC).
 */
function overCoveringWindows(visit: string): string {
  return `
          let coords = getCoordsFromIndex(index);
          let shifted = vec2<i32>(coords.yz) + uniforms.pads;
          let reach = shifted - uniforms.filterDims + vec2<i32>(1, 1);
          let first = select(vec2<i32>(0, 0), (reach + uniforms.strides - vec2<i32>(1, 1)) / uniforms.strides, reach > vec2<i32>(0, 0));
          let last = min(shifted / uniforms.strides, vec2<i32>(uniforms.dyShape.y - 1, uniforms.dyShape.z - 1));
          var sum = 0.0;
          for (var oh = first.x; oh <= last.x; oh++) {
            let wR = shifted.x - oh * uniforms.strides.x;
            for (var ow = first.y; ow <= last.y; ow++) {
              let wC = shifted.y - ow * uniforms.strides.y;
              ${visit}
            }
          }
          setOutputAtIndex(index, sum);`;
}

function maxPoolBackpropProgram(inShape: number[]): WebGPUProgram {
  return flatProgram(inShape, ['dy', 'positions'], 'monoMaxPoolBackprop', GEOMETRY_UNIFORMS, overCoveringWindows(`
              if (i32(getPositions(coords.x, oh, ow, coords.w)) == wR * uniforms.filterDims.y + wC) {
                sum += getDy(coords.x, oh, ow, coords.w);
              }`));
}

/** Each window's share is 1/n, n its in-bounds count: what the forward average divides by. */
function avgPoolBackpropProgram(inShape: number[]): WebGPUProgram {
  return flatProgram(inShape, ['dy'], 'monoAvgPoolBackprop', GEOMETRY_UNIFORMS + ' inDims : vec2<i32>,', overCoveringWindows(`
              let start = vec2<i32>(oh, ow) * uniforms.strides - uniforms.pads;
              let inside = min(start + uniforms.filterDims, uniforms.inDims) - max(start, vec2<i32>(0, 0));
              sum += getDy(coords.x, oh, ow, coords.w) / f32(inside.x * inside.y);`));
}

function requireInput(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`mono kernels: ${kernel} needs input ${name}`);
  return t;
}

export const webgpuMaxPoolGradKernel: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: WEBGPU,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const gpu = backend as WebGPUBackend;
    const dy = requireInput(inputs, 'dy', tf.MaxPoolGrad);
    const x = requireInput(inputs, 'input', tf.MaxPoolGrad);
    const info = poolInfo(x.shape, attrs as unknown as PoolAttrs);
    const positions = gpu.runWebGPUProgram(firstMaxPositionsProgram(info.outShape), [x], 'int32', geometry(info));
    try {
      return gpu.runWebGPUProgram(maxPoolBackpropProgram(x.shape), [dy, positions], 'float32', geometry(info));
    } finally {
      gpu.disposeData(positions.dataId);
    }
  },
};

export const webgpuAvgPoolGradKernel: tf.KernelConfig = {
  kernelName: tf.AvgPoolGrad,
  backendName: WEBGPU,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const gpu = backend as WebGPUBackend;
    const dy = requireInput(inputs, 'dy', tf.AvgPoolGrad);
    const x = requireInput(inputs, 'input', tf.AvgPoolGrad);
    const info = poolInfo(x.shape, attrs as unknown as PoolAttrs);
    const uniforms = [...geometry(info), { type: 'int32', data: [info.inHeight, info.inWidth] }];
    return gpu.runWebGPUProgram(avgPoolBackpropProgram(x.shape), [dy], 'float32', uniforms);
  },
};
