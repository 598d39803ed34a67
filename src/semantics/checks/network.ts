import type { NetworkDeclaration, Section } from '../../syntax/ast.js';
import type { CheckContext } from '../registry.js';
import { keywordRange } from '../symbols.js';

/** A network has sections. */
export function checkNetworkHasSections(network: NetworkDeclaration, { reporter }: CheckContext): void {
  if (network.sections.length === 0) {
    reporter.error('empty-network', 'the network has no sections; write `name: layers` inside network { }', keywordRange(network.loc, 'network'));
  }
}

/** No section is empty. */
export function checkSectionHasLayers(section: Section, { reporter }: CheckContext): void {
  if (section.body.length === 0) reporter.error('empty-section', `section '${section.name.name}' has no layers`, section.name.loc);
}
