/**
 * What the network expansion made of each layer item, for tools that show it at a
 * source position (the language server's hover): the nodes each layer call, block
 * use, repeat, residual or proxy head produced, and its output shapes. Recorded only
 * when a trace is passed to the compilation; the compiler itself never reads it.
 */
import type { IRNode, ParamSpec, Shape } from '../ir/types.js';
import type { LayerCall, LayerItem } from '../syntax/ast.js';

export interface ItemExpansion {
  /** How often the item was expanded: a call in a block body once per use of the block, in a repeat once per iteration. */
  instances: number;
  /** The nodes of each instance, in order (a block use's include those of the layers inside it). */
  nodes: IRNode[][];
  /** Each instance's output shape; null where an error stopped it. */
  outputs: (Shape | null)[];
}

export class ExpansionTrace {
  /** Keyed by the AST node: a layer item, or the LayerCall of a partition's proxy head. */
  readonly items = new Map<LayerItem | LayerCall, ItemExpansion>();
  /** Every parameter of the expanded network (shared ones once), to count an item's parameters. */
  parameters: readonly ParamSpec[] = [];

  record(item: LayerItem | LayerCall, nodes: IRNode[], output: Shape | null): void {
    let expansion = this.items.get(item);
    if (expansion === undefined) {
      expansion = { instances: 0, nodes: [], outputs: [] };
      this.items.set(item, expansion);
    }
    expansion.instances++;
    expansion.nodes.push(nodes);
    expansion.outputs.push(output);
  }
}
