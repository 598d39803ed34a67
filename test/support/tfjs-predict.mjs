/**
 * Loads a TensorFlow.js LayersModel from a folder with @tensorflow/tfjs (cpu backend) and
 * prints its predictions for a batch, as JSON: what a user of `mono export --format tfjs`
 * does in Node. Run as a child process (node test/support/tfjs-predict.mjs MODEL_DIR
 * INPUT_JSON), so that @tensorflow/tfjs, which registers its own kernels and gradients
 * on import, stays out of the test process.
 *   INPUT_JSON: {"shape": [n, ...], "data": [...]}
 *   stdout:     {"probabilities": [[...], ...], "metadata": {...}, "layers": [class names]}
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [dir, inputFile] = process.argv.slice(2);
await tf.setBackend('cpu');
const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
const shards = json.weightsManifest.flatMap((group) => group.paths.map((file) => readFileSync(path.join(dir, file))));
const weights = Buffer.concat(shards);
// The same artifacts tf.io.http would fetch, read from disk.
const model = await tf.loadLayersModel({
  load: async () => ({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length),
    userDefinedMetadata: json.userDefinedMetadata,
  }),
});
const input = JSON.parse(readFileSync(inputFile, 'utf8'));
const output = model.predict(tf.tensor(input.data, input.shape));
process.stdout.write(
  JSON.stringify({ probabilities: await output.array(), metadata: model.getUserDefinedMetadata(), layers: model.layers.map((layer) => layer.getClassName()) }),
);
