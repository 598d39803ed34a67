import { didYouMean } from '../../diagnostics/suggest.js';
import type { Identifier, PartitionDeclaration } from '../../syntax/ast.js';
import type { CheckContext } from '../registry.js';

/** A partition's bounds name sections, and its proxy names a head. */
export function checkPartitionNames(partition: PartitionDeclaration, { symbols, reporter }: CheckContext): void {
  const checkSection = (name: Identifier) => {
    if (symbols.sections.has(name.name)) return;
    reporter.error('unknown-section', `unknown section '${name.name}'`, name.loc, didYouMean(name.name, symbols.sections.keys()));
  };
  checkSection(partition.from);
  if (partition.to) checkSection(partition.to);
  const proxy = partition.proxy;
  if (proxy && !symbols.heads.has(proxy.callee.name)) {
    const name = proxy.callee.name;
    const message = symbols.blocks.has(name) ? `'${name}' is a block; a proxy must be a head` : `unknown head '${name}'`;
    reporter.error('unknown-head', message, proxy.callee.loc, didYouMean(name, symbols.heads.keys()));
  }
}
