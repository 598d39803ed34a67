/**
 * Hover: on a layer, block use, repeat, residual or proxy head, what it expands to
 * (output shape, trainable parameters, forward FLOPs per example); on a name, its
 * declaration.
 */
import { MarkupKind, type Hover } from 'vscode-languageserver';
import type { IRNode, ParamSpec, Shape } from '../ir/types.js';
import { layerCatalog } from '../semantics/catalog/layers.js';
import { formatShape, shapeSize } from '../semantics/shapes.js';
import type { ExpansionTrace } from '../semantics/trace.js';
import { formatCount, formatFlops } from '../summary/units.js';
import type * as Ast from '../syntax/ast.js';
import type { SourceRange } from '../syntax/location.js';
import { printExpression } from '../syntax/printer.js';
import { keywordRange } from '../semantics/symbols.js';
import type { PlanDocument } from './document.js';
import { covers, nodesAt, toLspRange } from './positions.js';
import { occurrenceAt, type Definition } from './resolve.js';
import { declarationSignature, signatureText } from './signatures.js';

/** The layer item (or proxy head call) whose name or keyword is at `offset`. */
function itemAt(path: readonly Ast.AstNode[], offset: number): { item: Ast.LayerItem; range: SourceRange } | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    const node = path[i]!;
    if (node.kind === 'LayerCall' && covers(node.callee.loc, offset)) return { item: node, range: node.callee.loc };
    if (node.kind === 'Repeat' || node.kind === 'Residual') {
      const keyword = keywordRange(node.loc, node.kind === 'Repeat' ? 'repeat' : 'residual');
      if (covers(keyword, offset)) return { item: node, range: keyword };
    }
  }
  return undefined;
}

function trainableParameters(nodes: readonly IRNode[], specs: ReadonlyMap<string, ParamSpec>): number {
  const seen = new Set<string>();
  let total = 0;
  for (const node of nodes) {
    for (const name of node.params) {
      if (seen.has(name)) continue;
      seen.add(name);
      const spec = specs.get(name);
      if (spec?.trainable) total += shapeSize(spec.shape);
    }
  }
  return total;
}

const sum = (nodes: readonly IRNode[]) => nodes.reduce((total, node) => total + node.flops, 0);
const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** The lines about what an item expanded to, or a note when it was not expanded. */
function expansionLines(trace: ExpansionTrace, item: Ast.LayerItem | Ast.LayerCall): string[] {
  const expansion = trace.items.get(item);
  if (expansion === undefined) return ['_not expanded: the plan has errors before it, or nothing uses it_'];
  const specs = new Map(trace.parameters.map((spec) => [spec.name, spec]));
  const shapes = distinct(expansion.outputs.map((shape: Shape | null) => (shape === null ? 'unknown (an error)' : `\`${formatShape(shape)}\``)));
  const params = distinct(expansion.nodes.map((nodes) => String(trainableParameters(nodes, specs))));
  const flops = distinct(expansion.nodes.map((nodes) => String(sum(nodes))));
  const layers = distinct(expansion.nodes.map((nodes) => String(nodes.length)));
  const lines = [`output ${shapes.join(' or ')}`];
  if (params.length === 1 && flops.length === 1) {
    const count = Number(params[0]);
    const exact = count >= 1000 ? ` (${count.toLocaleString('en-US')})` : '';
    lines.push(`${formatCount(count)} trainable parameters${exact} · ${formatFlops(Number(flops[0]))} per example`);
  } else {
    const allNodes = expansion.nodes.flat();
    lines.push(`${formatCount(trainableParameters(allNodes, specs))} trainable parameters · ${formatFlops(sum(allNodes))} per example, over all instances`);
  }
  if (layers.length === 1 && Number(layers[0]) > 1) lines.push(`${layers[0]} layers`);
  if (expansion.instances > 1) lines.push(`${plural(expansion.instances, 'instance')} (one per use of the enclosing block or repeat)`);
  return lines;
}

function itemHeading(document: PlanDocument, item: Ast.LayerItem, proxy: boolean): string {
  if (item.kind === 'Repeat') return '**repeat**';
  if (item.kind === 'Residual') return '**residual**';
  const name = item.callee.name;
  const layer = layerCatalog.get(name);
  if (layer !== undefined && !proxy) return `**${name}** · layer \`${signatureText(name, layer.signature.params)}\``;
  const definition = document.resolved?.layerDefinitions.get(name);
  if (definition?.node.kind === 'Block' || definition?.node.kind === 'Head') {
    return `**${name}** · \`${declarationSignature(definition.node).text}\`${proxy ? ' (proxy head)' : ''}`;
  }
  return `**${name}**`;
}

function definitionHover(definition: Definition): string {
  const node = definition.node;
  switch (node.kind) {
    case 'Param':
      return `\`param ${node.name.name} = ${printExpression(node.value)}\``;
    case 'Block':
    case 'Head':
      return `\`${declarationSignature(node).text}\``;
    case 'ParameterDefinition':
      return `parameter \`${node.name.name}${node.default ? ` = ${printExpression(node.default)}` : ''}\``;
    case 'Section':
      return `section \`${node.name.name}\``;
    case 'Partition':
      return `\`partition ${node.name.name} = ${node.from.name}${node.to ? ` .. ${node.to.name}` : ''}${node.proxy ? ` proxy ${node.proxy.callee.name}` : ''}\``;
    default:
      return `\`${definition.name}\``;
  }
}

export function hover(document: PlanDocument, offset: number): Hover | undefined {
  const { plan, trace } = document.traced;
  if (plan === undefined) return undefined;
  const path = nodesAt(plan, offset);
  const found = itemAt(path, offset);
  if (found !== undefined) {
    const proxy = path.some((node) => node.kind === 'Partition' && node.proxy === found.item);
    const value = [itemHeading(document, found.item, proxy), ...expansionLines(trace, found.item)].join('\n\n');
    return { contents: { kind: MarkupKind.Markdown, value }, range: toLspRange(found.range) };
  }
  const occurrence = document.resolved ? occurrenceAt(document.resolved, offset) : undefined;
  if (occurrence === undefined) return undefined;
  return { contents: { kind: MarkupKind.Markdown, value: definitionHover(occurrence.definition) }, range: toLspRange(occurrence.range) };
}
