import type { DataSpec, IRNode, MonitoredMetric, ParamSpec, PhaseSpec, Shape } from '../ir/types.js';
import type { LayerItem, Plan, Section } from '../syntax/ast.js';
import type { SourceRange } from '../syntax/location.js';
import { createCheckRegistry } from './checks/index.js';
import type { CheckRegistry } from './registry.js';
import { ExpansionTrace } from './trace.js';
import { layerCatalog } from './catalog/layers.js';
import { resolveData } from './data.js';
import { evaluate } from './evaluate.js';
import type { Flow } from './expand.js';
import { Expander } from './expand.js';
import { globToRegExp } from '../ir/glob.js';
import { layoutPartitions } from './layout.js';
import type { ParamOverride } from './params.js';
import { evaluatePlanParams } from './params.js';
import { resolveBestMetric, resolvePhases } from './phases.js';
import type { Reporter } from './reporter.js';
import { formatShape, isFlat, sameShape } from './shapes.js';
import { collectSymbols, keywordRange } from './symbols.js';
import { coerce, T } from './types.js';

export interface AnalyzedHead {
  name: string;
  declaration: string;
  nodes: IRNode[];
  output: string;
}

export interface AnalyzedPartition {
  name: string;
  sections: string[];
  nodes: IRNode[];
  input: string;
  inputShape: Shape;
  output: string;
  outputShape: Shape;
  head?: AnalyzedHead;
}

/** Everything the lowering needs, all checked: only produced for a plan without errors. */
export interface Analysis {
  plan: string;
  params: Record<string, number | string | boolean>;
  inputShape: Shape;
  nodes: IRNode[];
  output: string;
  classes: number;
  parameters: ParamSpec[];
  partitions: AnalyzedPartition[];
  data: DataSpec;
  phases: PhaseSpec[];
  best: { metric: MonitoredMetric };
}

/** The built-in checks; they keep no state between runs, so one registry serves every compilation. */
const defaultChecks = createCheckRegistry();

/**
 * Resolves and checks a parsed plan: names, params (with overrides), block
 * expansion and shape inference, partitions and heads, data and schedule.
 * Reports every problem into `reporter`; returns the analysis when there were none.
 * `checks` are the name-level checks run on every node (the built-in ones unless given);
 * a `trace` records what each layer item expanded to.
 */
export function analyzePlan(
  plan: Plan,
  overrides: ReadonlyMap<string, ParamOverride>,
  reporter: Reporter,
  checks: CheckRegistry = defaultChecks,
  trace?: ExpansionTrace,
): Analysis | undefined {
  const symbols = collectSymbols(plan, reporter);
  // stdp's layer checks point at the layer they are about: keep where each node came from.
  const layerTrace = trace ?? (symbols.schedule?.phases.some((phase) => phase.optimizer.callee.name === 'stdp') ? new ExpansionTrace() : undefined);
  checks.run(plan, { symbols, reporter });
  const params = evaluatePlanParams(symbols, overrides, reporter);
  const layout = layoutPartitions(symbols, reporter);
  const network = symbols.network;
  if (network === undefined) return undefined;

  const inputValue = coerce(evaluate(network.input, params.env, reporter), T.list(T.positiveInt, 1), 'the network input', reporter);
  let inputShape: Shape | undefined;
  if (inputValue?.kind === 'list') {
    inputShape = inputValue.items.map((item) => (item.kind === 'number' ? item.value : 0));
    if (inputShape.length !== 1 && inputShape.length !== 3) {
      reporter.error('input-shape', `the network input must be an image [h, w, c] or a flat vector [n], but is ${formatShape(inputShape)}`, network.input.loc);
      inputShape = undefined;
    }
  }

  // Sections, in order, into one node list; each section's node range is kept for the partitions.
  const expander = new Expander(symbols, params.env, reporter, layerTrace);
  const nodes: IRNode[] = [];
  const sectionRanges = new Map<string, { start: number; end: number; output: Flow }>();
  let flow: Flow = { id: 'input', shape: inputShape ?? null };
  for (const section of network.sections) {
    if (symbols.sections.get(section.name.name)?.section !== section) continue; // a duplicate
    const start = nodes.length;
    flow = expander.expandSection(section.name.name, section.body, flow, nodes, layout.partitionOf.get(section.name.name) ?? '');
    sectionRanges.set(section.name.name, { start, end: nodes.length, output: flow });
  }

  const outputLoc = lastItemLoc(network.sections) ?? keywordRange(network.loc, 'network');
  let classes: number | undefined;
  if (flow.shape !== null) {
    if (isFlat(flow.shape)) classes = flow.shape[0];
    else
      reporter.error(
        'output-not-flat',
        `the network must end in class scores [n], but its output is ${formatShape(flow.shape)}; end it with global_avg_pool and dense(classes)`,
        outputLoc,
      );
  }

  const partitions: AnalyzedPartition[] = [];
  let previousOutput: { id: string; shape: Shape } | undefined = inputShape ? { id: 'input', shape: inputShape } : undefined;
  layout.partitions.forEach((partition, index) => {
    const first = sectionRanges.get(partition.sections[0]!);
    const last = sectionRanges.get(partition.sections[partition.sections.length - 1]!);
    if (first === undefined || last === undefined || previousOutput === undefined) return;
    const partitionNodes = nodes.slice(first.start, last.end);
    const nameLoc = partition.declaration?.name.loc ?? keywordRange(network.loc, 'network');
    const output = last.output;
    if (output.shape === null) return; // an error inside was reported
    if (partitionNodes.length === 0) {
      reporter.error('empty-partition', `partition '${partition.name}' has no layers`, nameLoc);
      return;
    }
    const analyzed: AnalyzedPartition = {
      name: partition.name,
      sections: partition.sections,
      nodes: partitionNodes,
      input: previousOutput.id,
      inputShape: previousOutput.shape,
      output: output.id,
      outputShape: output.shape,
    };
    const proxy = partition.declaration?.proxy;
    const head = proxy ? symbols.heads.get(proxy.callee.name) : undefined;
    if (proxy && head && index < layout.partitions.length - 1) {
      const headNodes: IRNode[] = [];
      const section = partition.sections[partition.sections.length - 1]!;
      const headOutput = expander.expandHead(head, proxy, { id: output.id, shape: output.shape }, headNodes, partition.name, section);
      if (headOutput.shape !== null && headNodes.length === 0) {
        reporter.error('empty-head', `head '${head.name.name}' has no layers`, proxy.callee.loc);
      } else if (headOutput.shape !== null && flow.shape !== null && !sameShape(headOutput.shape, flow.shape)) {
        reporter.error(
          'head-shape-mismatch',
          `proxy head '${head.name.name}' outputs ${formatShape(headOutput.shape)}, but the network outputs ${formatShape(flow.shape)}; a proxy head must give the network's output shape`,
          proxy.loc,
        );
      } else {
        analyzed.head = { name: `${partition.name}.head`, declaration: head.name.name, nodes: headNodes, output: headOutput.id };
      }
    }
    partitions.push(analyzed);
    previousOutput = { id: output.id, shape: output.shape };
  });

  const dataInterface = { inputLoc: network.input.loc, outputLoc } as Parameters<typeof resolveData>[1];
  if (inputShape) dataInterface.inputShape = inputShape;
  if (classes !== undefined) dataInterface.classes = classes;
  const data = resolveData(symbols.data, dataInterface, params.env, reporter);

  const parameters = expander.parameters;
  const phaseContext = {
    symbols,
    ...(data?.spec.tasks ? { tasks: data.spec.tasks } : {}),
    layout,
    env: params.env,
    reporter,
    matchesAnyParameter: parameterMatcher(parameters, nodes, layout.partitions.map((p) => p.name)),
    holdout: data?.spec.holdout,
    ...(layerTrace ? { stdp: { nodes, parameters, nodeLoc: layerLocations(layerTrace), dataBatch: data?.spec.batch } } : {}),
  };
  const bestMetric = resolveBestMetric(phaseContext);
  const phases = resolvePhases(phaseContext, bestMetric);

  if (reporter.errors > 0 || inputShape === undefined || data === undefined || classes === undefined) return undefined;
  return {
    plan: plan.name.name,
    params: params.values,
    inputShape,
    nodes,
    output: flow.id,
    classes,
    parameters,
    partitions,
    data: data.spec,
    phases,
    best: { metric: bestMetric },
  };
}

function lastItemLoc(sections: readonly Section[]): SourceRange | undefined {
  for (let index = sections.length - 1; index >= 0; index--) {
    const body: readonly LayerItem[] = sections[index]!.body;
    const last = body[body.length - 1];
    if (last) return last.kind === 'LayerCall' ? last.loc : keywordRange(last.loc, last.kind === 'Repeat' ? 'repeat' : 'residual');
  }
  return undefined;
}

/** Whether a glob matches a parameter name, or the partition or section of one (as the optimizer does). */
function parameterMatcher(parameters: readonly ParamSpec[], nodes: readonly IRNode[], partitions: readonly string[]): (pattern: string) => boolean {
  let names: string[] | undefined;
  return (pattern) => {
    names ??= [...parameters.map((p) => p.name), ...new Set(nodes.map((node) => node.section)), ...partitions];
    const regex = globToRegExp(pattern);
    return names.some((name) => regex.test(name));
  };
}


/** Where each node's layer call is written (the innermost: a layer in a block's body, not the block's use). */
function layerLocations(trace: ExpansionTrace): (id: string) => SourceRange | undefined {
  let locations: Map<string, SourceRange> | undefined;
  return (id) => {
    if (locations === undefined) {
      locations = new Map();
      for (const [item, expansion] of trace.items) {
        if (item.kind !== 'LayerCall' || !layerCatalog.has(item.callee.name)) continue;
        for (const nodes of expansion.nodes) for (const node of nodes) locations.set(node.id, item.loc);
      }
    }
    return locations.get(id);
  };
}
