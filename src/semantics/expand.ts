import type { AttrValue, Initializer, IRNode, OpName, ParamSpec, Shape } from '../ir/types.js';
import type { BlockDeclaration, HeadDeclaration, LayerCall, LayerItem, Repeat, Residual } from '../syntax/ast.js';
import type { SourceRange } from '../syntax/location.js';
import type { LayerParam } from './catalog/layers.js';
import { batchnormParams, isLayerShapeError, kernelInit, kernelInitArg, layerCatalog } from './catalog/layers.js';
import { Environment } from './environment.js';
import { evaluate, evaluateArguments } from './evaluate.js';
import type { Reporter } from './reporter.js';
import type { BoundArguments, Signature } from './signature.js';
import { argumentLoc, bindArguments, booleanArg, defaults, optionalNumberArg } from './signature.js';
import { formatShape, isFlat, isImage, sameShape, shapeSize } from './shapes.js';
import type { SymbolTable } from './symbols.js';
import { keywordRange } from './symbols.js';
import type { ExpansionTrace } from './trace.js';
import { coerce, T } from './types.js';
import type { EvaluatedArgument } from './values.js';

/** The value flowing between layers: the producing node and its shape (null after a reported error). */
export interface Flow {
  id: string;
  shape: Shape | null;
}

/** Limits that keep a hostile or mistaken plan from exhausting memory or the stack. */
export const MAX_NODES = 1_000_000;
/**
 * How deep block calls, repeats and residuals may nest once blocks are expanded. Each
 * block body nests at most MAX_NESTING levels by itself, but block calls chain bodies:
 * without this limit 200 blocks of 60 nested residuals would recurse 12,000 deep.
 */
export const MAX_EXPANSION_DEPTH = 200;

/** A naming scope: a section, a block instance or a head instance. */
class Scope {
  private readonly counters = new Map<string, number>();
  private readonly used = new Set<string>();

  constructor(
    readonly prefix: string,
    readonly path: string,
  ) {}

  /** The next unused `<base><n>` in this scope (`conv1`, `conv2`, `basic1`). */
  next(base: string): { component: string; index: number } {
    let index = this.counters.get(base) ?? 0;
    let component: string;
    do {
      index++;
      component = `${base}${index}`;
    } while (this.used.has(component));
    this.counters.set(base, index);
    this.used.add(component);
    return { component, index };
  }
}

/** An active `repeat N shared`: its first iteration creates parameters, the others reuse them in order. */
interface SharedFrame {
  group: string;
  count: number;
  iteration: number;
  cursor: number;
  specs: ParamSpec[];
  /** Default residual scale inside it: `shared(scale: s)` or 1/N. */
  scale: number;
}

/** Where new nodes and parameters go and whom they belong to. */
interface Owner {
  nodes: IRNode[];
  section: string;
  partition: string;
  /** Proxy head instance name (`p1.head`), for head parameters. */
  head?: string;
  /** Appended to shape errors inside a head, which is instantiated per partition. */
  note: string;
}

export const RESIDUAL_SIGNATURE: Signature = {
  name: 'residual',
  params: [
    { name: 'projection', type: T.boolean, default: defaults.boolean(true) },
    { name: 'scale', type: T.number, optional: true },
    // The projection's kernel initialisation, like conv's and dense's `init`.
    { name: 'init', type: kernelInit, default: defaults.word('he_normal') },
  ],
};

const SHARED_SIGNATURE: Signature = { name: 'shared', params: [{ name: 'scale', type: T.number, optional: true }] };

/**
 * Expands the network (and proxy heads) into IR nodes: binds block arguments,
 * unrolls repeats, adds residual projections and `add` nodes, shares the
 * parameters of `repeat N shared`, and infers every shape on the way, reporting
 * the first mismatch of each path. Parameters are counted, never allocated.
 */
export class Expander {
  readonly parameters: ParamSpec[] = [];
  private readonly shared: SharedFrame[] = [];
  private readonly blockStack: string[] = [];
  private readonly blockSignatures = new Map<BlockDeclaration | HeadDeclaration, Signature>();
  private nodeCount = 0;
  /** Block calls, repeats and residuals being expanded around the current item. */
  private expansionDepth = 0;
  private aborted = false;
  private owner: Owner = { nodes: [], section: '', partition: '', note: '' };

  constructor(
    private readonly symbols: SymbolTable,
    private readonly planEnv: Environment,
    private readonly reporter: Reporter,
    /** Records what each layer item produced (for tools); absent in a plain compilation. */
    private readonly trace?: ExpansionTrace,
  ) {
    if (trace !== undefined) trace.parameters = this.parameters;
  }

  /** Expands one network section into `nodes`, continuing from `input`. */
  expandSection(name: string, body: readonly LayerItem[], input: Flow, nodes: IRNode[], partition: string): Flow {
    this.owner = { nodes, section: name, partition, note: '' };
    return this.expandItems(body, input, new Scope(name, name), this.planEnv);
  }

  /** Instantiates a proxy head on a partition's output; its nodes go to `nodes`. */
  expandHead(head: HeadDeclaration, call: LayerCall, input: Flow, nodes: IRNode[], partition: string, section: string): Flow {
    const instance = `${partition}.head`;
    this.owner = { nodes, section, partition, head: instance, note: ` (in the proxy head of partition '${partition}')` };
    const env = this.bindDeclaration(head, call, this.planEnv);
    if (env === undefined) return { id: input.id, shape: null };
    const start = nodes.length;
    const output = this.expandItems(head.body, input, new Scope(instance, `${partition}/head:${head.name.name}`), env);
    this.trace?.record(call, nodes.slice(start), output.shape);
    return output;
  }

  private expandItems(items: readonly LayerItem[], input: Flow, scope: Scope, env: Environment): Flow {
    let flow = input;
    for (const item of items) {
      if (this.aborted) return { id: flow.id, shape: null };
      if (this.trace !== undefined) {
        const nodes = this.owner.nodes;
        const start = nodes.length;
        flow = this.expandItem(item, flow, scope, env);
        this.trace.record(item, nodes.slice(start), flow.shape);
      } else {
        flow = this.expandItem(item, flow, scope, env);
      }
    }
    return flow;
  }

  private expandItem(item: LayerItem, flow: Flow, scope: Scope, env: Environment): Flow {
    switch (item.kind) {
      case 'LayerCall':
        return this.expandCall(item, flow, scope, env);
      case 'Repeat':
        return this.deeper(flow, keywordRange(item.loc, 'repeat'), () => this.expandRepeat(item, flow, scope, env));
      case 'Residual':
        return this.deeper(flow, keywordRange(item.loc, 'residual'), () => this.expandResidual(item, flow, scope, env));
    }
  }

  /** Expands one nesting level (block call, repeat, residual) deeper, or reports the limit at `at` and stops. */
  private deeper(flow: Flow, at: SourceRange, expand: () => Flow): Flow {
    if (this.expansionDepth >= MAX_EXPANSION_DEPTH) {
      this.reporter.error(
        'nesting-too-deep',
        `block calls, repeats and residuals nest more than ${MAX_EXPANSION_DEPTH} deep here once blocks are expanded`,
        at,
      );
      this.aborted = true;
      return { id: flow.id, shape: null };
    }
    this.expansionDepth++;
    try {
      return expand();
    } finally {
      this.expansionDepth--;
    }
  }

  private expandCall(call: LayerCall, flow: Flow, scope: Scope, env: Environment): Flow {
    const name = call.callee.name;
    const layer = layerCatalog.get(name);
    if (layer) {
      const bound = bindArguments(layer.signature, evaluateArguments(call.args, env, this.reporter), call.callee.loc, this.reporter);
      if (bound === undefined || flow.shape === null) return { id: flow.id, shape: null };
      const result = layer.infer(flow.shape, bound);
      if (isLayerShapeError(result)) {
        const at = result.argument === undefined ? call.callee.loc : argumentLoc(bound, result.argument, call.callee.loc);
        this.reporter.error('shape-mismatch', result.error + this.owner.note, at);
        return { id: flow.id, shape: null };
      }
      const id = this.addNode(scope, name, layer.op, result.attrs, [flow.id], result.shape, result.params, result.flops, call.loc);
      return { id, shape: result.shape };
    }
    const block = this.symbols.blocks.get(name);
    // Unknown names were reported by the name checks; a recursive call by the recursion check.
    if (block === undefined || this.blockStack.includes(name)) return { id: flow.id, shape: null };
    return this.deeper(flow, call.callee.loc, () => {
      const blockEnv = this.bindDeclaration(block, call, env);
      if (blockEnv === undefined) return { id: flow.id, shape: null };
      const { component, index } = scope.next(name);
      const inner = new Scope(`${scope.prefix}.${component}`, `${scope.path}/${name}#${index}`);
      this.blockStack.push(name);
      const result = this.expandItems(block.body, flow, inner, blockEnv);
      this.blockStack.pop();
      return result;
    });
  }

  /**
   * Binds a call's arguments to a block's or head's parameters. Defaults are
   * evaluated in the new scope in order, so a default may use earlier parameters.
   * Bodies see their own parameters and the plan params, not the caller's names.
   */
  private bindDeclaration(declaration: BlockDeclaration | HeadDeclaration, call: LayerCall, callerEnv: Environment): Environment | undefined {
    const args: EvaluatedArgument[] = evaluateArguments(call.args, callerEnv, this.reporter);
    const bound = bindArguments(this.signatureOf(declaration), args, call.callee.loc, this.reporter);
    if (bound === undefined) return undefined;
    const env = new Environment(this.planEnv, false);
    let ok = true;
    for (const param of declaration.params) {
      const given = bound.get(param.name.name);
      if (given !== undefined) env.define(param.name.name, given);
      else if (param.default) env.define(param.name.name, evaluate(param.default, env, this.reporter));
      else {
        const what = declaration.kind === 'Block' ? 'block' : 'head';
        this.reporter.error('missing-argument', `${what} '${declaration.name.name}' is missing the required argument '${param.name.name}'`, call.callee.loc);
        ok = false;
      }
    }
    return ok ? env : undefined;
  }

  private signatureOf(declaration: BlockDeclaration | HeadDeclaration): Signature {
    let signature = this.blockSignatures.get(declaration);
    if (signature === undefined) {
      const what = declaration.kind === 'Block' ? 'block' : 'head';
      signature = {
        name: `${what} '${declaration.name.name}'`,
        params: declaration.params.map((param) => ({ name: param.name.name, type: T.any, optional: true })),
      };
      this.blockSignatures.set(declaration, signature);
    }
    return signature;
  }

  private expandRepeat(repeat: Repeat, flow: Flow, scope: Scope, env: Environment): Flow {
    const count = coerce(evaluate(repeat.count, env, this.reporter), T.nonNegativeInt, 'repeat count', this.reporter);
    let sharedArgs: BoundArguments | undefined = new Map();
    if (repeat.shared) {
      sharedArgs = bindArguments(SHARED_SIGNATURE, evaluateArguments(repeat.shared.args, env, this.reporter), repeat.shared.loc, this.reporter);
    }
    if (count === undefined || count.kind !== 'number' || sharedArgs === undefined || flow.shape === null) {
      // Still look inside once, for the errors of the body.
      this.expandItems(repeat.body, { id: flow.id, shape: null }, scope, env);
      return { id: flow.id, shape: null };
    }
    const times = count.value;
    let frame: SharedFrame | undefined;
    if (repeat.shared) {
      const { component } = scope.next('shared');
      frame = {
        group: `${scope.prefix}.${component}`,
        count: times,
        iteration: 0,
        cursor: 0,
        specs: [],
        scale: optionalNumberArg(sharedArgs, 'scale') ?? (times > 0 ? 1 / times : 1),
      };
      this.shared.push(frame);
    }
    let current = flow;
    for (let iteration = 0; iteration < times; iteration++) {
      if (frame) {
        frame.iteration = iteration;
        frame.cursor = 0;
      }
      const before = current;
      const countBefore = this.nodeCount;
      current = this.expandItems(repeat.body, current, scope, env);
      if (current.shape === null || this.aborted) break;
      // Refuse a plan that would grow past the limit before building it.
      if (iteration === 0 && this.nodeCount + (this.nodeCount - countBefore) * (times - 1) > MAX_NODES) {
        this.reporter.error('plan-too-large', `the network expands to more than ${MAX_NODES} layers`, keywordRange(repeat.loc, 'repeat'));
        this.aborted = true;
        break;
      }
      if (frame && iteration === 0 && before.shape !== null && !sameShape(before.shape, current.shape)) {
        this.reporter.error(
          'shared-shape-change',
          `a shared repeat reuses one parameter set, so its body must keep its input shape, but it changes ${formatShape(before.shape)} to ${formatShape(current.shape)}` +
            this.owner.note,
          keywordRange(repeat.loc, 'repeat'),
        );
        current = { id: current.id, shape: null };
        break;
      }
    }
    if (frame) this.shared.pop();
    return current;
  }

  private expandResidual(residual: Residual, flow: Flow, scope: Scope, env: Environment): Flow {
    const args = bindArguments(RESIDUAL_SIGNATURE, evaluateArguments(residual.args, env, this.reporter), keywordRange(residual.loc, 'residual'), this.reporter);
    const firstBranchNode = this.owner.nodes.length;
    const branch = this.expandItems(residual.body, flow, scope, env);
    if (args === undefined || flow.shape === null || branch.shape === null) return { id: branch.id, shape: null };
    const at = keywordRange(residual.loc, 'residual');
    if (branch.id === flow.id) {
      this.reporter.error('empty-residual', 'a residual needs at least one layer in its branch', at);
      return { id: flow.id, shape: null };
    }
    const scale = optionalNumberArg(args, 'scale') ?? this.shared[this.shared.length - 1]?.scale ?? 1;
    let skip = flow.id;
    if (!sameShape(flow.shape, branch.shape)) {
      if (!booleanArg(args, 'projection')) {
        this.reporter.error(
          'residual-shape-mismatch',
          `the residual branch changes the shape from ${formatShape(flow.shape)} to ${formatShape(branch.shape)}, but projection is false; keep the shape or allow the projection` +
            this.owner.note,
          at,
        );
        return { id: branch.id, shape: null };
      }
      const stride = branchStride(this.owner.nodes.slice(firstBranchNode), flow.id, branch.id);
      const projected = this.addProjection(scope, flow as { id: string; shape: Shape }, branch.shape, stride, kernelInitArg(args), at, residual.loc);
      if (projected === undefined) return { id: branch.id, shape: null };
      skip = projected;
    }
    const size = shapeSize(branch.shape);
    const id = this.addNode(scope, 'add', 'add', { scale }, [skip, branch.id], branch.shape, [], size, residual.loc);
    return { id, shape: branch.shape };
  }

  /**
   * The skip path's projection when the branch changes the shape: for images a 1x1
   * conv with the branch's own overall stride s + bn, which takes for output (i, j)
   * the input pixel (i*s, j*s), the first pixel of the branch's window for that
   * output (always inside it). Where the branch's 'valid' windows drop the last rows
   * or columns (maxpool on 7x7 gives 3x3), a `crop` first keeps the rows and columns
   * the branch's windows start from, (h' - 1) * s + 1 of them. Flat shapes get a
   * dense + bn. Undefined after an error.
   */
  private addProjection(
    scope: Scope,
    skip: { id: string; shape: Shape },
    target: Shape,
    stride: number | undefined,
    init: Initializer,
    at: SourceRange,
    loc: SourceRange,
  ): string | undefined {
    const from = skip.shape;
    let projectionId: string;
    if (isImage(from) && isImage(target)) {
      const [h, w, cin] = from;
      const [oh, ow, filters] = target;
      // The 1x1 conv's output is ceil(h / s); the branch's is never larger (each of its windows starts inside the input).
      if (stride === undefined || Math.ceil(h / stride) < oh || Math.ceil(w / stride) < ow) {
        this.reporter.error(
          'residual-shape-mismatch',
          `the residual branch changes the shape from ${formatShape(from)} to ${formatShape(target)}, which no strided 1x1 projection can match` + this.owner.note,
          at,
        );
        return undefined;
      }
      let input: { id: string; shape: Shape } = skip;
      if (Math.ceil(h / stride) > oh || Math.ceil(w / stride) > ow) {
        const height = (oh - 1) * stride + 1;
        const width = (ow - 1) * stride + 1;
        const shape: Shape = [height, width, cin];
        input = { id: this.addNode(scope, 'proj_crop', 'crop', { height, width }, [skip.id], shape, [], 0, loc), shape };
      }
      projectionId = this.addNode(
        scope,
        'proj',
        'conv2d',
        { filters, kernel: 1, stride, padding: 'same', bias: false },
        [input.id],
        target,
        [{ role: 'kernel', shape: [1, 1, cin, filters], init, trainable: true }],
        2 * cin * oh * ow * filters,
        loc,
      );
    } else if (isFlat(from) && isFlat(target)) {
      const [n] = from;
      const [units] = target;
      projectionId = this.addNode(
        scope,
        'proj',
        'dense',
        { units, bias: false },
        [skip.id],
        target,
        [{ role: 'kernel', shape: [n, units], init, trainable: true }],
        2 * n * units,
        loc,
      );
    } else {
      this.reporter.error(
        'residual-shape-mismatch',
        `the residual branch changes the shape from ${formatShape(from)} to ${formatShape(target)}; a projection can only match images to images or flat vectors to flat vectors` +
          this.owner.note,
        at,
      );
      return undefined;
    }
    return this.addNode(
      scope,
      'proj_bn',
      'batchnorm',
      { momentum: 0.99, epsilon: 1e-3 },
      [projectionId],
      target,
      batchnormParams(target[target.length - 1]!),
      shapeSize(target),
      loc,
    );
  }

  private addNode(
    scope: Scope,
    base: string,
    op: OpName,
    attrs: Record<string, AttrValue>,
    inputs: string[],
    shape: Shape,
    params: readonly LayerParam[],
    flops: number,
    loc: SourceRange,
  ): string {
    const { component, index } = scope.next(base);
    const id = `${scope.prefix}.${component}`;
    const paramNames: string[] = [];
    for (const param of params) paramNames.push(this.acquireParameter(`${id}.${param.role}`, param).name);
    this.owner.nodes.push({
      id,
      op,
      attrs,
      inputs,
      shape,
      params: paramNames,
      section: this.owner.section,
      partition: this.owner.partition,
      path: `${scope.path}/${base}#${index}`,
      flops,
    });
    if (++this.nodeCount > MAX_NODES && !this.aborted) {
      this.aborted = true;
      this.reporter.error('plan-too-large', `the network expands to more than ${MAX_NODES} layers`, loc);
    }
    return id;
  }

  /**
   * The parameter for a new node. Inside a shared repeat, iterations after the
   * first take the first iteration's parameters in creation order.
   */
  private acquireParameter(name: string, param: LayerParam): ParamSpec {
    // Running statistics are not weights: each depth of a shared stack sees its own
    // activations, so one shared set would normalise every depth with mixed statistics.
    const spec = param.trainable ? this.acquireAt(this.shared.length - 1, name, param) : this.createParameter(name, param);
    spec.uses++;
    return spec;
  }

  private acquireAt(level: number, name: string, param: LayerParam): ParamSpec {
    const frame = this.shared[level];
    if (frame === undefined) return this.createParameter(name, param);
    if (frame.iteration > 0) {
      const reused = frame.specs[frame.cursor++];
      if (reused !== undefined) return reused;
    }
    const spec = this.acquireAt(level - 1, name, param);
    frame.specs.push(spec);
    return spec;
  }

  private createParameter(name: string, param: LayerParam): ParamSpec {
    const spec: ParamSpec = {
      name,
      shape: param.shape,
      init: param.init,
      partition: this.owner.partition,
      trainable: param.trainable,
      lrMult: 1,
      uses: 0,
    };
    if (this.owner.head !== undefined) spec.head = this.owner.head;
    const sharing = param.trainable ? this.shared.find((frame) => frame.count > 1) : undefined;
    if (sharing !== undefined) spec.sharedGroup = sharing.group;
    this.parameters.push(spec);
    return spec;
  }
}

/**
 * The overall stride of a residual branch: the product of the strides of the convs
 * and pools on its path from `from` (the residual's input) to `to` (its last node);
 * a nested residual counts through its own branch. Undefined when the path cannot
 * be followed (for the nodes of one expanded branch it always can).
 */
function branchStride(nodes: readonly IRNode[], from: string, to: string): number | undefined {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  let stride = 1;
  let at = to;
  while (at !== from) {
    const node = byId.get(at);
    if (node === undefined) return undefined;
    if (node.op === 'conv2d' || node.op === 'maxpool' || node.op === 'avgpool') {
      const s = node.attrs['stride'];
      if (typeof s !== 'number') return undefined;
      stride *= s;
    }
    const next = node.op === 'add' ? node.inputs[1] : node.inputs[0];
    if (next === undefined) return undefined;
    at = next;
  }
  return stride;
}
