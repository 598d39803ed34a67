/** What can be called where, and how its parameters read: for hover and completion. */
import { dataSourceCatalog } from '../semantics/catalog/data.js';
import { layerCatalog } from '../semantics/catalog/layers.js';
import { optimizerCatalog, regularizerCatalog } from '../semantics/catalog/optimizers.js';
import { scheduleCatalog } from '../semantics/catalog/schedules.js';
import type { ParamSignature, Signature } from '../semantics/signature.js';
import { describeType } from '../semantics/types.js';
import type { Value } from '../semantics/values.js';
import type * as Ast from '../syntax/ast.js';
import { printExpression } from '../syntax/printer.js';

function valueText(value: Value): string {
  switch (value.kind) {
    case 'number':
      return value.percent ? `${value.value}%` : String(value.value);
    case 'string':
      return JSON.stringify(value.value);
    case 'boolean':
      return String(value.value);
    case 'word':
      return value.name;
    case 'list':
      return `[${value.items.map(valueText).join(', ')}]`;
    case 'call':
      return `${value.callee}(...)`;
    case 'error':
      return '?';
  }
}

/** `stride: 1`, `filters` (required), `classes?` (optional, derived when left out). */
export function parameterText(param: ParamSignature): string {
  if (param.default !== undefined) return `${param.name}: ${valueText(param.default())}`;
  return param.optional ? `${param.name}?` : param.name;
}

export function signatureText(name: string, params: readonly ParamSignature[]): string {
  return `${name}(${params.map(parameterText).join(', ')})`;
}

export function parameterDetail(param: ParamSignature): string {
  return describeType(param.type);
}

/** A block's or head's parameters as a signature (any type; defaults are expressions). */
export function declarationSignature(declaration: Ast.BlockDeclaration | Ast.HeadDeclaration): { text: string; params: string[] } {
  const params = declaration.params.map((p) => (p.default ? `${p.name.name} = ${printExpression(p.default)}` : p.name.name));
  return { text: `${declaration.kind === 'Block' ? 'block' : 'head'} ${declaration.name.name}(${params.join(', ')})`, params: declaration.params.map((p) => p.name.name) };
}

export type CalleeKind = 'layer' | 'optimizer' | 'schedule' | 'data source' | 'regularizer';

/** The catalogue signature of a built-in callee, looked up where it can appear. */
export function builtinSignature(name: string, where: 'layer' | 'value' | 'optimizer' | 'data'): { kind: CalleeKind; signature: Signature } | undefined {
  if (where === 'layer') {
    const layer = layerCatalog.get(name);
    return layer ? { kind: 'layer', signature: layer.signature } : undefined;
  }
  if (where === 'optimizer') {
    const optimizer = optimizerCatalog.get(name);
    return optimizer ? { kind: 'optimizer', signature: optimizer } : undefined;
  }
  if (where === 'data') {
    const source = dataSourceCatalog.get(name);
    return source ? { kind: 'data source', signature: source.signature } : undefined;
  }
  const schedule = scheduleCatalog.get(name);
  if (schedule) return { kind: 'schedule', signature: schedule };
  const regularizer = regularizerCatalog.get(name);
  return regularizer ? { kind: 'regularizer', signature: regularizer } : undefined;
}
