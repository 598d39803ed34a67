import { didYouMean } from '../../diagnostics/suggest.js';
import type { DataDeclaration } from '../../syntax/ast.js';
import { dataSourceCatalog, DATA_SETTINGS } from '../catalog/data.js';
import type { CheckContext } from '../registry.js';
import { checkSettingNames } from './phases.js';

/** The data source is known, and the settings are known and not repeated. */
export function checkDataNames(data: DataDeclaration, context: CheckContext): void {
  const source = data.source.kind === 'Call' ? data.source.callee : data.source;
  if (!dataSourceCatalog.has(source.name)) {
    context.reporter.error(
      'unknown-data-source',
      `unknown data source '${source.name}'; expected one of ${[...dataSourceCatalog.keys()].join(', ')}`,
      source.loc,
      didYouMean(source.name, dataSourceCatalog.keys()),
    );
  }
  checkSettingNames(data.settings, DATA_SETTINGS, 'data', [], context);
}
