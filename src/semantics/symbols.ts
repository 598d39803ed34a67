import type {
  BlockDeclaration,
  DataDeclaration,
  HeadDeclaration,
  Identifier,
  NetworkDeclaration,
  ParamDeclaration,
  PartitionDeclaration,
  Plan,
  ScheduleDeclaration,
  Section,
} from '../syntax/ast.js';
import type { SourceRange } from '../syntax/location.js';
import { layerCatalog } from './catalog/layers.js';
import type { Reporter } from './reporter.js';

/** Every declaration of a plan by name, the first definition winning over duplicates. */
export interface SymbolTable {
  plan: Plan;
  params: ParamDeclaration[];
  paramsByName: Map<string, ParamDeclaration>;
  blocks: Map<string, BlockDeclaration>;
  heads: Map<string, HeadDeclaration>;
  network?: NetworkDeclaration;
  /** Sections of the network, in order, with their index. */
  sections: Map<string, { section: Section; index: number }>;
  partitions: PartitionDeclaration[];
  partitionsByName: Map<string, PartitionDeclaration>;
  data?: DataDeclaration;
  schedule?: ScheduleDeclaration;
}

/** The range of a declaration's leading keyword: a readable caret for a long declaration. */
export function keywordRange(loc: SourceRange, keyword: string): SourceRange {
  return {
    start: loc.start,
    end: { offset: loc.start.offset + keyword.length, line: loc.start.line, column: loc.start.column + keyword.length },
  };
}

function lineOf(identifier: Identifier): number {
  return identifier.loc.start.line;
}

export function collectSymbols(plan: Plan, reporter: Reporter): SymbolTable {
  const table: SymbolTable = {
    plan,
    params: [],
    paramsByName: new Map(),
    blocks: new Map(),
    heads: new Map(),
    sections: new Map(),
    partitions: [],
    partitionsByName: new Map(),
  };

  const define = <T extends { name: Identifier }>(map: Map<string, T>, declaration: T, what: string): boolean => {
    const previous = map.get(declaration.name.name);
    if (previous) {
      reporter.error(
        'duplicate-definition',
        `${what} '${declaration.name.name}' is already defined on line ${lineOf(previous.name)}`,
        declaration.name.loc,
      );
      return false;
    }
    map.set(declaration.name.name, declaration);
    return true;
  };

  // Blocks and heads share one namespace, apart from the built-in layers.
  function defineCallable<T extends BlockDeclaration | HeadDeclaration>(
    own: Map<string, T>,
    declaration: T,
    kind: 'block' | 'head',
    others: ReadonlyMap<string, BlockDeclaration | HeadDeclaration>,
    otherKind: 'block' | 'head',
  ): void {
    const name = declaration.name.name;
    const other = others.get(name);
    if (layerCatalog.has(name)) {
      reporter.error('reserved-name', `${kind} '${name}' has the name of a built-in layer`, declaration.name.loc);
    } else if (other !== undefined) {
      reporter.error('duplicate-definition', `'${name}' is already defined as a ${otherKind} on line ${lineOf(other.name)}`, declaration.name.loc);
    } else define(own, declaration, kind);
  }

  for (const declaration of plan.declarations) {
    switch (declaration.kind) {
      case 'Param':
        if (define(table.paramsByName, declaration, 'param')) table.params.push(declaration);
        break;
      case 'Block':
        defineCallable(table.blocks, declaration, 'block', table.heads, 'head');
        break;
      case 'Head':
        defineCallable(table.heads, declaration, 'head', table.blocks, 'block');
        break;
      case 'Network':
        if (table.network) {
          reporter.error('duplicate-network', `a plan has exactly one network; the first is on line ${table.network.loc.start.line}`, keywordRange(declaration.loc, 'network'));
        } else {
          table.network = declaration;
          const byName = new Map<string, Section>();
          declaration.sections.forEach((section) => {
            if (define(byName, section, 'section')) table.sections.set(section.name.name, { section, index: table.sections.size });
          });
        }
        break;
      case 'Partition':
        if (define(table.partitionsByName, declaration, 'partition')) table.partitions.push(declaration);
        break;
      case 'Data':
        if (table.data) {
          reporter.error('duplicate-data', `a plan has at most one data block; the first is on line ${table.data.loc.start.line}`, keywordRange(declaration.loc, 'data'));
        } else table.data = declaration;
        break;
      case 'Schedule':
        if (table.schedule) {
          reporter.error('duplicate-schedule', `a plan has at most one schedule; the first is on line ${table.schedule.loc.start.line}`, keywordRange(declaration.loc, 'schedule'));
        } else table.schedule = declaration;
        break;
    }
  }
  if (!table.network) reporter.error('missing-network', `plan '${plan.name.name}' has no network`, plan.name.loc);
  return table;
}
