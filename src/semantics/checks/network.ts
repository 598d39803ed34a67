import type { NetworkDeclaration } from '../../syntax/ast.js';
import type { CheckContext } from '../registry.js';
import { keywordRange } from '../symbols.js';

/** A network has sections, and no section is empty. */
export function checkSections(network: NetworkDeclaration, { reporter }: CheckContext): void {
  if (network.sections.length === 0) {
    reporter.error('empty-network', 'the network has no sections; write `name: layers` inside network { }', keywordRange(network.loc, 'network'));
  }
  for (const section of network.sections) {
    if (section.body.length === 0) reporter.error('empty-section', `section '${section.name.name}' has no layers`, section.name.loc);
  }
}
