// Reading a checkpoint into a live network and its trainer: a resume (every tensor, after
// checking that the checkpoint fits the plan) and --init-from (the parameters that fit).
// Values go straight into the tensors that will hold them wherever the backend allows.
import * as tf from '@tensorflow/tfjs-core';
import { slotKinds } from '../optim/optimizers.js';
import { entryMismatches, readCheckpoint, tensorMismatches, type Checkpoint, type CheckpointEntry, type CheckpointHeader, type CheckpointIoOptions, type ExpectedTensor, type TensorMemory } from './checkpoint.js';
import { RuntimeFailure } from './errors.js';
import type { Network } from './graph.js';
import { optimizedParams, phaseGraph } from './step.js';
import { tensorDestination } from './tensor-memory.js';
import { phaseParameterNames, type Trainer } from './trainer.js';

/**
 * The tensors a checkpoint of this network must hold at `state`: every parameter, and
 * the slots of the optimizer of the phase it is in (none at a phase boundary); plus
 * any way its position does not fit the plan's phases.
 */
function expectedTensors(network: Network, state: CheckpointHeader['state'], synapseTensors: readonly string[]): { tensors: ExpectedTensor[]; problems: string[] } {
  const tensors: ExpectedTensor[] = network.paramSpecs().map((spec) => ({ name: spec.name, kind: 'weight', shape: spec.shape }));
  const problems: string[] = [];
  const phases = network.ir.phases;
  const phase = phases[state.phaseIndex];
  if (state.phaseIndex > phases.length) problems.push(`it is at phase ${state.phaseIndex + 1}, the plan has ${phases.length}`);
  if (phase && state.nextEpoch >= phase.epochs) problems.push(`it is at epoch ${state.nextEpoch + 1} of phase ${phase.name}, which has ${phase.epochs}`);
  if (phase && state.optimizer) {
    if (state.optimizer.type !== phase.optimizer.type) problems.push(`its optimizer is ${state.optimizer.type}, phase ${phase.name} uses ${phase.optimizer.type}`);
    const spec = phase.optimizer;
    const params = spec.type === 'stdp' ? [] : optimizedParams(network, phaseGraph(network, phase));
    for (const param of params) {
      for (const kind of spec.type === 'stdp' ? [] : slotKinds(spec)) tensors.push({ name: `${param.name}/${kind}`, kind: 'slot', shape: param.variable.shape });
    }
  }
  // `stop early(restore: true)` mid-phase: the parameters of the phase's best epoch so far.
  if (phase && state.earlyStop && phase.earlyStop?.restore) {
    for (const name of phaseParameterNames(network, phaseGraph(network, phase))) tensors.push({ name, kind: 'best', shape: network.variable(name).shape });
  }
  // Cost per synapse: every tensor the checkpoint holds must be of a parameter of the plan, of its shape.
  if (state.synapse) {
    const shapes = new Map(network.paramSpecs().map((spec) => [spec.name, spec.shape]));
    for (const name of synapseTensors) {
      const param = name.slice(0, name.lastIndexOf('/'));
      const shape = shapes.get(param);
      if (shape) tensors.push({ name, kind: 'synapse', shape });
    }
  }
  return { tensors, problems };
}

/**
 * Loads a checkpoint into a network and its trainer, after checking that it fits the
 * plan: the same parameters (names, shapes), the optimizer slots the current phase
 * needs, a phase and epoch the plan has. A misfit is refused, naming the first
 * differences; with `force` the tensors that fit are loaded and the differences returned.
 */
export function restoreCheckpoint(network: Network, trainer: Trainer, checkpoint: Checkpoint, options: { force: boolean; file: string }): string[] {
  const { tensors, problems } = expectedTensors(network, checkpoint.state, (checkpoint.state.synapse?.tensors ?? []).map((t) => t.name));
  const mismatches = [...problems, ...tensorMismatches(checkpoint, tensors)];
  refuseMisfit(network, mismatches, options);
  network.setWeights(checkpoint.weights);
  trainer.setState(checkpoint.state);
  return mismatches;
}

function refuseMisfit(network: Network, mismatches: readonly string[], options: { force: boolean; file: string }): void {
  if (mismatches.length === 0 || options.force) return;
  const shown = mismatches.slice(0, 3).join('; ') + (mismatches.length > 3 ? `; and ${mismatches.length - 3} more` : '');
  throw new RuntimeFailure(`${options.file} does not fit the plan ${network.ir.plan}: ${shown} (pass --force to load what fits)`);
}

/**
 * restoreCheckpoint from the checkpoint file in `dir`, writing values straight into the
 * memory of the tensors that will hold them (tensorDestination: the cpu backend's values
 * array, the wasm backend's heap), chunk by chunk through a reused scratch chunk, so no
 * array of a tensor's size is allocated and nothing is held twice:
 *  - each parameter into the network's own variable, allocated and touched already;
 *  - each optimizer slot into the slot variable of the optimizer the resumed phase will
 *    train with, which the trainer makes now, before the read (optimizerForResume),
 *    rather than at the phase's start.
 * Early-stop copies and synapse tensors are read into new arrays (early-stop copies live
 * in such arrays; synapse tensors are small), and so is anything a backend keeps out of
 * reach (webgpu, tfjs-node). The fit to the plan is checked on the header, before any
 * value is read.
 *
 * The tensors are overwritten while the file is read and its checksum is known only at
 * the end: a damaged file leaves them part old, part damaged. The failure (a
 * RuntimeFailure naming the file) ends runSession, which releases the network and the
 * trainer in its finally, before anything trains on them, evaluates them or checkpoints
 * them; nothing else holds them. (Checking the whole file first would cost a second pass
 * over it.)
 */
export async function restoreCheckpointFile(network: Network, trainer: Trainer, dir: string, options: { force: boolean; file: string }, io: CheckpointIoOptions = {}): Promise<string[]> {
  let mismatches: string[] = [];
  let slots = new Map<string, tf.Variable>();
  const checkpoint = await readCheckpoint(dir, {
    ...io,
    checkHeader: (header) => {
      const synapse = header.tensors.filter((t) => t.kind === 'synapse').map((t) => t.name);
      const { tensors, problems } = expectedTensors(network, header.state, synapse);
      mismatches = [...problems, ...entryMismatches(header.tensors, tensors)];
      refuseMisfit(network, mismatches, options);
      slots = trainer.optimizerForResume(header.state);
    },
    destination: (entry) => fittingDestination(entry.kind === 'slot' ? slots.get(entry.name) : parameterOf(network, entry), entry),
  });
  network.setWeights(checkpoint.weights);
  network.markLoaded(); // the values read in place went past setWeights
  trainer.setState(checkpoint.state);
  return mismatches;
}

/**
 * Loads the parameters of the checkpoint in `dir` that fit the network by name and shape
 * (--init-from), each read straight into the network's own variable where the backend
 * allows (as restoreCheckpointFile does); the checkpoint's other tensors (optimizer
 * slots, early-stop copies) are checked, not kept. Returns what was loaded and what was
 * not, as Network.setWeights does. A damaged file throws after some parameters were
 * overwritten: the caller discards the network (a new run, or an lr-find, that fails).
 */
export async function loadWeightsFile(network: Network, dir: string, io: CheckpointIoOptions = {}): Promise<{ loaded: string[]; skipped: { name: string; reason: string }[] }> {
  const checkpoint = await readCheckpoint(dir, { ...io, weightsOnly: true, destination: (entry) => fittingDestination(parameterOf(network, entry), entry) });
  // Only weights have destinations here: `weight <name>`.
  const inPlace = (checkpoint.readInPlace ?? []).map((key) => key.slice('weight '.length));
  // The rest: parameters out of the reader's reach, and those that do not fit (setWeights says why).
  const { loaded, skipped } = network.setWeights(checkpoint.weights);
  if (inPlace.length > 0) network.markLoaded();
  return { loaded: [...inPlace, ...loaded], skipped };
}

/** The network's variable of a checkpoint's weight entry, if the plan has a parameter of that name. */
function parameterOf(network: Network, entry: CheckpointEntry): tf.Variable | undefined {
  return entry.kind === 'weight' ? network.findVariable(entry.name) : undefined;
}

/** The memory of `tensor` for a checkpoint entry of its shape to be read into, if the backend gives it; undefined reads the entry into an array. */
function fittingDestination(tensor: tf.Tensor | undefined, entry: CheckpointEntry): TensorMemory | undefined {
  return tensor && tf.util.arraysEqual(tensor.shape, [...entry.shape]) ? tensorDestination(tensor) : undefined;
}
