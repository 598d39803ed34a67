// ONNX ModelProto encoding, shared by `mono export --format onnx` and the onnxruntime
// convolution engine (kernels/onnxruntime-engine.ts): protobufjs with the official
// schema, vendored in proto/onnx.proto (onnx v1.22.0).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type protobuf from 'protobufjs';

export const ONNX_OPSET = 17;
/** IR version 8 goes with opset 17 (onnx's docs/Versioning.md). */
export const ONNX_IR_VERSION = 8;
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

/** The vendored schema, next to the package (src/ and dist/ are both one level below runtime/). */
const PROTO_FILE = new URL('../../proto/onnx.proto', import.meta.url);

export type OnnxAttribute = { name: string; type: number; i?: number; f?: number; ints?: readonly number[] };
const AttributeType = { FLOAT: 1, INT: 2, INTS: 7 } as const;
export const int = (name: string, i: number): OnnxAttribute => ({ name, type: AttributeType.INT, i });
export const float = (name: string, f: number): OnnxAttribute => ({ name, type: AttributeType.FLOAT, f });
export const ints = (name: string, values: readonly number[]): OnnxAttribute => ({ name, type: AttributeType.INTS, ints: values });

/** A float32 tensor's ValueInfo type: numbers are fixed dims, strings named free ones (the batch). */
export function tensorType(dims: readonly (number | string)[]) {
  return { tensorType: { elemType: ONNX_FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } };
}

let modelProto: protobuf.Type | undefined;

/** Encodes a ModelProto given as a plain object; throws when it does not fit the schema. */
export function encodeModelProto(model: Record<string, unknown>): Uint8Array {
  // Loaded on first use: most commands never encode a model.
  const loader = createRequire(import.meta.url)('protobufjs') as typeof protobuf;
  modelProto ??= loader.loadSync(fileURLToPath(PROTO_FILE)).lookupType('onnx.ModelProto');
  const problem = modelProto.verify(model);
  if (problem) throw new Error(`internal: the ONNX model does not fit onnx.proto: ${problem}`);
  return modelProto.encode(modelProto.fromObject(model)).finish();
}
