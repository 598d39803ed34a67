import type { BlockDeclaration, HeadDeclaration, Plan } from '../../syntax/ast.js';
import type { CheckContext } from '../registry.js';
import { forEachLayerCall } from './layer-names.js';

/** Parameter names are unique, and parameters with defaults come last. */
export function checkParameterList(declaration: BlockDeclaration | HeadDeclaration, { reporter }: CheckContext): void {
  const seen = new Set<string>();
  let sawDefault = false;
  const what = declaration.kind === 'Block' ? 'block' : 'head';
  for (const param of declaration.params) {
    if (seen.has(param.name.name)) {
      reporter.error('duplicate-parameter', `${what} '${declaration.name.name}' has two parameters named '${param.name.name}'`, param.name.loc);
    }
    seen.add(param.name.name);
    if (param.default) sawDefault = true;
    else if (sawDefault)
      reporter.error(
        'required-after-default',
        `parameter '${param.name.name}' has no default but follows one that has; put parameters with defaults last`,
        param.name.loc,
      );
  }
}

/**
 * A block may not call itself, directly or through other blocks. Each cycle is
 * reported once, at the first of its blocks in source order, with its path.
 */
export function checkRecursiveBlocks(_plan: Plan, { symbols, reporter }: CheckContext): void {
  const callees = new Map<string, string[]>();
  for (const [name, block] of symbols.blocks) {
    const called: string[] = [];
    forEachLayerCall(block.body, (call) => {
      if (symbols.blocks.has(call.callee.name) && !called.includes(call.callee.name)) called.push(call.callee.name);
    });
    callees.set(name, called);
  }
  const state = new Map<string, 'active' | 'done'>();
  const reported = new Set<string>();
  for (const root of symbols.blocks.keys()) {
    if (state.has(root)) continue;
    // Iterative depth-first search: the stack holds the current path.
    const path: string[] = [root];
    const nextChild: number[] = [0];
    state.set(root, 'active');
    while (path.length > 0) {
      const current = path[path.length - 1]!;
      const children = callees.get(current) ?? [];
      const index = nextChild[nextChild.length - 1]!;
      if (index >= children.length) {
        state.set(current, 'done');
        path.pop();
        nextChild.pop();
        continue;
      }
      nextChild[nextChild.length - 1] = index + 1;
      const child = children[index]!;
      const childState = state.get(child);
      if (childState === 'active') {
        const cycle = path.slice(path.indexOf(child));
        const key = [...cycle].sort().join(' ');
        if (reported.has(key)) continue;
        reported.add(key);
        const first = cycle.reduce((a, b) => (symbols.blocks.get(a)!.loc.start.offset <= symbols.blocks.get(b)!.loc.start.offset ? a : b));
        const start = cycle.indexOf(first);
        const ordered = [...cycle.slice(start), ...cycle.slice(0, start), first];
        reporter.error('recursive-block', `block '${first}' is recursive: ${ordered.join(' -> ')}`, symbols.blocks.get(first)!.name.loc);
      } else if (childState === undefined) {
        state.set(child, 'active');
        path.push(child);
        nextChild.push(0);
      }
    }
  }
}
