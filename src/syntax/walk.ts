/**
 * The children of every AST node, in source order, for code that visits the whole
 * tree (the per-node checks, the language server's position lookups) without a
 * switch of its own per node kind.
 */
import type { AstNode, Expression, LayerItem } from './ast.js';

function layerItems(items: readonly LayerItem[], into: AstNode[]): void {
  for (const item of items) into.push(item);
}

function expressions(items: readonly Expression[], into: AstNode[]): void {
  for (const item of items) into.push(item);
}

/** The direct children of `node`, in source order. Comments are not children (they hang off the Plan). */
export function childrenOf(node: AstNode): AstNode[] {
  const children: AstNode[] = [];
  switch (node.kind) {
    case 'Plan':
      children.push(node.name, ...node.declarations);
      break;
    case 'Param':
      children.push(node.name, node.value);
      break;
    case 'Data':
      children.push(node.source, ...node.settings);
      break;
    case 'Block':
    case 'Head':
      children.push(node.name, ...node.params);
      layerItems(node.body, children);
      break;
    case 'Network':
      children.push(node.input, ...node.sections);
      break;
    case 'Section':
      children.push(node.name);
      layerItems(node.body, children);
      break;
    case 'Partition':
      children.push(node.name, node.from);
      if (node.to) children.push(node.to);
      if (node.proxy) children.push(node.proxy);
      break;
    case 'Schedule':
      children.push(...node.settings, ...node.phases);
      break;
    case 'Phase':
      children.push(node.target, node.epochs, node.optimizer, ...node.settings);
      break;
    case 'Setting':
      children.push(node.name);
      expressions(node.values, children);
      break;
    case 'LayerCall':
      children.push(node.callee, ...node.args);
      break;
    case 'Repeat':
      children.push(node.count);
      if (node.shared) children.push(node.shared);
      layerItems(node.body, children);
      break;
    case 'Residual':
      children.push(...node.args);
      layerItems(node.body, children);
      break;
    case 'Shared':
      children.push(...node.args);
      break;
    case 'Argument':
      if (node.name) children.push(node.name);
      children.push(node.value);
      break;
    case 'ParameterDefinition':
      children.push(node.name);
      if (node.default) children.push(node.default);
      break;
    case 'Call':
      children.push(node.callee, ...node.args);
      break;
    case 'List':
      expressions(node.items, children);
      break;
    case 'Binary':
      children.push(node.left, node.right);
      break;
    case 'Unary':
      children.push(node.operand);
      break;
    case 'Number':
    case 'Percent':
    case 'String':
    case 'Boolean':
    case 'Ref':
    case 'Identifier':
    case 'Comment':
      break;
  }
  return children;
}

/**
 * Visits `root` and every node below it, parents before children, in source order.
 * `parent` is undefined for the root. Iterative, so that a deep tree costs no stack.
 */
export function walk(root: AstNode, visit: (node: AstNode, parent: AstNode | undefined) => void): void {
  const stack: Array<[AstNode, AstNode | undefined]> = [[root, undefined]];
  while (stack.length > 0) {
    const [node, parent] = stack.pop()!;
    visit(node, parent);
    const children = childrenOf(node);
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]!, node]);
  }
}
