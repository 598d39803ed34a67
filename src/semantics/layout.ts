import type { PartitionDeclaration } from '../syntax/ast.js';
import { IMPLICIT_PARTITION } from './checks/phases.js';
import { stdpOnlyPartitions } from './checks/stdp.js';
import type { Reporter } from './reporter.js';
import type { SymbolTable } from './symbols.js';

export interface PartitionLayout {
  name: string;
  declaration?: PartitionDeclaration;
  /** Section indices, inclusive. */
  first: number;
  last: number;
  sections: string[];
}

export interface Layout {
  partitions: PartitionLayout[];
  /** Partition of each section by name ('' when in none). */
  partitionOf: Map<string, string>;
}

/**
 * Lays the partitions over the sections: each is a range of sections in network
 * order, together they cover every section exactly once, and every partition but
 * the last has a proxy head (but one trained only by stdp). A plan without partitions has one implicit
 * partition, `main`, over all sections.
 */
export function layoutPartitions(symbols: SymbolTable, reporter: Reporter): Layout {
  const sectionNames = [...symbols.sections.keys()];
  const partitionOf = new Map<string, string>();
  if (symbols.partitions.length === 0) {
    for (const name of sectionNames) partitionOf.set(name, IMPLICIT_PARTITION);
    const partitions = sectionNames.length === 0 ? [] : [{ name: IMPLICIT_PARTITION, first: 0, last: sectionNames.length - 1, sections: sectionNames }];
    return { partitions, partitionOf };
  }

  const owner: Array<string | undefined> = new Array<string | undefined>(sectionNames.length);
  const partitions: PartitionLayout[] = [];
  let previous: PartitionLayout | undefined;
  for (const declaration of symbols.partitions) {
    const first = symbols.sections.get(declaration.from.name)?.index;
    const last = declaration.to ? symbols.sections.get(declaration.to.name)?.index : first;
    if (first === undefined || last === undefined) continue; // unknown section: reported by the name checks
    const name = declaration.name.name;
    if (last < first) {
      reporter.error(
        'partition-range-reversed',
        `partition '${name}' runs backwards: section '${declaration.to!.name}' comes before '${declaration.from.name}' in the network`,
        declaration.to!.loc,
        `write '${declaration.to!.name} .. ${declaration.from.name}'`,
      );
      continue;
    }
    let overlapReported = false;
    for (let index = first; index <= last; index++) {
      const other = owner[index];
      if (other !== undefined) {
        if (!overlapReported)
          reporter.error(
            'partition-overlap',
            `partition '${name}' overlaps partition '${other}': section '${sectionNames[index]}' is in both`,
            declaration.name.loc,
          );
        overlapReported = true;
      } else owner[index] = name;
    }
    if (!overlapReported && previous !== undefined && first < previous.first) {
      reporter.error(
        'partition-order',
        `partition '${name}' comes before partition '${previous.name}' in the network; declare partitions in network order`,
        declaration.name.loc,
      );
    }
    const layout: PartitionLayout = { name, declaration, first, last, sections: sectionNames.slice(first, last + 1) };
    partitions.push(layout);
    previous = layout;
  }
  sectionNames.forEach((section, index) => {
    const name = owner[index];
    if (name !== undefined) {
      partitionOf.set(section, name);
      return;
    }
    partitionOf.set(section, '');
    reporter.error('partition-gap', `section '${section}' is in no partition`, symbols.sections.get(section)!.section.name.loc, 'extend a partition to cover it, or add one');
  });
  checkProxies(symbols.partitions, stdpOnlyPartitions(symbols), reporter);
  return { partitions, partitionOf };
}

/**
 * Every partition but the last needs a proxy head, except one that only `stdp` phases
 * train (it learns without a loss); the last one's is ignored (it uses the network's output).
 */
function checkProxies(declarations: readonly PartitionDeclaration[], stdpOnly: ReadonlySet<string>, reporter: Reporter): void {
  declarations.forEach((declaration, index) => {
    const isLast = index === declarations.length - 1;
    if (!isLast && declaration.proxy === undefined && !stdpOnly.has(declaration.name.name)) {
      reporter.error(
        'missing-proxy',
        `partition '${declaration.name.name}' needs a proxy head: only the last partition trains through the network's own output`,
        declaration.name.loc,
        'add `proxy HEAD(args)` after its sections',
      );
    }
    if (isLast && declaration.proxy !== undefined) {
      reporter.warning(
        'proxy-on-last-partition',
        `the last partition '${declaration.name.name}' trains through the network's own output; its proxy '${declaration.proxy.callee.name}' is ignored`,
        declaration.proxy.callee.loc,
      );
    }
  });
}
