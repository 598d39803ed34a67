/**
 * mono's source positions and the protocol's. mono counts lines and columns from 1
 * and offsets from 0, in UTF-16 code units (JavaScript string indices), as the
 * protocol's `character` does: converting is a shift by one.
 */
import type { Position as LspPosition, Range as LspRange } from 'vscode-languageserver';
import type { AstNode } from '../syntax/ast.js';
import type { SourceRange } from '../syntax/location.js';
import { childrenOf } from '../syntax/walk.js';

export function toLspRange(range: SourceRange): LspRange {
  return {
    start: { line: range.start.line - 1, character: range.start.column - 1 },
    end: { line: range.end.line - 1, character: range.end.column - 1 },
  };
}

export function toLspPosition(range: SourceRange['start']): LspPosition {
  return { line: range.line - 1, character: range.column - 1 };
}

/** Whether `offset` lies in `range`, its end included (a cursor just after a name is on it). */
export function covers(range: SourceRange, offset: number): boolean {
  return range.start.offset <= offset && offset <= range.end.offset;
}

/**
 * The chain of nodes whose ranges hold `offset`, from `root` down to the innermost.
 * Between two adjacent nodes (`conv(`: the name ends where the list starts) the one
 * that starts at the offset wins over the one that ends there.
 */
export function nodesAt(root: AstNode, offset: number): AstNode[] {
  const path: AstNode[] = [root];
  let current: AstNode = root;
  for (;;) {
    let next: AstNode | undefined;
    for (const child of childrenOf(current)) {
      if (!covers(child.loc, offset)) continue;
      next = child;
      if (offset < child.loc.end.offset) break;
    }
    if (next === undefined) return path;
    path.push(next);
    current = next;
  }
}
