/** The outline of a plan: its declarations, the network's sections, the partitions and the schedule's phases. */
import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver';
import type * as Ast from '../syntax/ast.js';
import { printExpression } from '../syntax/printer.js';
import { toLspRange } from './positions.js';

function symbol(name: string, kind: SymbolKind, node: { loc: Ast.Plan['loc'] }, selection: Ast.Plan['loc'], detail?: string, children?: DocumentSymbol[]): DocumentSymbol {
  const result: DocumentSymbol = { name, kind, range: toLspRange(node.loc), selectionRange: toLspRange(selection) };
  if (detail !== undefined) result.detail = detail;
  if (children !== undefined) result.children = children;
  return result;
}

function parameterList(params: readonly Ast.ParameterDefinition[]): string {
  return `(${params.map((p) => (p.default ? `${p.name.name} = ${printExpression(p.default)}` : p.name.name)).join(', ')})`;
}

export function documentSymbols(plan: Ast.Plan): DocumentSymbol[] {
  return plan.declarations.map((declaration): DocumentSymbol => {
    switch (declaration.kind) {
      case 'Param':
        return symbol(declaration.name.name, SymbolKind.Constant, declaration, declaration.name.loc, `param = ${printExpression(declaration.value)}`);
      case 'Data': {
        const source = declaration.source.kind === 'Call' ? declaration.source.callee : declaration.source;
        return symbol(`data ${source.name}`, SymbolKind.Module, declaration, source.loc, undefined,
          declaration.settings.map((setting) => symbol(setting.name.name, SymbolKind.Property, setting, setting.name.loc, setting.values.map(printExpression).join(', '))));
      }
      case 'Block':
        return symbol(declaration.name.name, SymbolKind.Function, declaration, declaration.name.loc, `block${parameterList(declaration.params)}`);
      case 'Head':
        return symbol(declaration.name.name, SymbolKind.Function, declaration, declaration.name.loc, `head${parameterList(declaration.params)}`);
      case 'Network':
        return symbol('network', SymbolKind.Class, declaration, declaration.loc, `input ${printExpression(declaration.input)}`,
          declaration.sections.map((section) => symbol(section.name.name, SymbolKind.Field, section, section.name.loc, 'section')));
      case 'Partition': {
        const range = declaration.to ? `${declaration.from.name} .. ${declaration.to.name}` : declaration.from.name;
        const proxy = declaration.proxy ? ` proxy ${declaration.proxy.callee.name}` : '';
        return symbol(declaration.name.name, SymbolKind.Struct, declaration, declaration.name.loc, `partition ${range}${proxy}`);
      }
      case 'Schedule':
        return symbol('schedule', SymbolKind.Namespace, declaration, declaration.loc, undefined,
          declaration.phases.map((phase) =>
            symbol(`${phase.mode} ${phase.target.name}`, SymbolKind.Event, phase, phase.target.loc, `for ${printExpression(phase.epochs)} with ${phase.optimizer.callee.name}`),
          ));
    }
  });
}
