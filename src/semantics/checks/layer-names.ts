import { didYouMean } from '../../diagnostics/suggest.js';
import type { AstNode, LayerCall, LayerItem } from '../../syntax/ast.js';
import { layerCatalog } from '../catalog/layers.js';
import type { CheckContext } from '../registry.js';

/** Calls every LayerCall in `items`, nested bodies included. */
export function forEachLayerCall(items: readonly LayerItem[], visit: (call: LayerCall) => void): void {
  for (const item of items) {
    if (item.kind === 'LayerCall') visit(item);
    else forEachLayerCall(item.body, visit);
  }
}

/**
 * A name called as a layer is a built-in layer or a block (heads only serve as
 * proxies). A partition's proxy is a LayerCall too: the partition check names heads.
 */
export function checkLayerName(call: LayerCall, context: CheckContext, parent: AstNode | undefined): void {
  if (parent?.kind === 'Partition') return;
  const { symbols, reporter } = context;
  const name = call.callee.name;
  if (layerCatalog.has(name) || symbols.blocks.has(name)) return;
  if (symbols.heads.has(name)) {
    reporter.error('head-as-layer', `'${name}' is a head; a head can only be a partition's proxy`, call.callee.loc);
    return;
  }
  reporter.error('unknown-layer', `unknown layer or block '${name}'`, call.callee.loc, didYouMean(name, [...layerCatalog.keys(), ...symbols.blocks.keys()]));
}
