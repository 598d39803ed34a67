import type { AstNode, Plan } from '../syntax/ast.js';
import { walk } from '../syntax/walk.js';
import type { Reporter } from './reporter.js';
import type { SymbolTable } from './symbols.js';

export type CheckedKind = AstNode['kind'];
export type NodeOfKind<K extends CheckedKind> = Extract<AstNode, { kind: K }>;

export interface CheckContext {
  symbols: SymbolTable;
  reporter: Reporter;
}

/** A check of one node; `parent` is the node that holds it (undefined for the Plan). */
export type Check<K extends CheckedKind> = (node: NodeOfKind<K>, context: CheckContext, parent: AstNode | undefined) => void;

interface RegisteredCheck {
  name: string;
  run: (node: AstNode, context: CheckContext, parent: AstNode | undefined) => void;
}

/**
 * Validation checks keyed by the kind of AST node they look at, in the manner of
 * Langium's ValidationRegistry: `run` walks every node of the plan (declarations,
 * sections, layer items, settings, expressions, ...) and calls the checks
 * registered for its kind. A check reports into the context and never stops the
 * others: every problem of a plan is reported at once. A check that throws (a bug
 * in mono, not in the plan) becomes one `internal-error` diagnostic naming the
 * check and the node, and is not run again in this compilation; the other checks
 * still run on every node.
 */
export class CheckRegistry {
  private readonly checks = new Map<CheckedKind, RegisteredCheck[]>();

  /** Adds checks for nodes of `kind`; a check is named by its function name in an internal-error report. */
  register<K extends CheckedKind>(kind: K, ...checks: Array<Check<K>>): this {
    const list = this.checks.get(kind) ?? [];
    for (const check of checks) {
      list.push({ name: check.name === '' ? `a ${kind} check` : check.name, run: check as RegisteredCheck['run'] });
    }
    this.checks.set(kind, list);
    return this;
  }

  /** The node kinds that have checks. */
  kinds(): CheckedKind[] {
    return [...this.checks.keys()];
  }

  run(plan: Plan, context: CheckContext): void {
    const failed = new Set<RegisteredCheck>();
    walk(plan, (node, parent) => {
      const checks = this.checks.get(node.kind);
      if (checks === undefined) return;
      for (const check of checks) {
        if (failed.has(check)) continue;
        try {
          check.run(node, context, parent);
        } catch (error) {
          failed.add(check);
          reportInternalError(check.name, node, error, context.reporter);
        }
      }
    });
  }
}

function reportInternalError(check: string, node: AstNode, error: unknown, reporter: Reporter): void {
  const reason = error instanceof Error ? error.message : String(error);
  const { line, column } = node.loc.start;
  reporter.error(
    'internal-error',
    `internal error in check '${check}' on the ${node.kind} at ${line}:${column}: ${reason}`,
    node.loc,
    'this is a bug in mono, not in the plan; the other checks still ran (please report it with the plan)',
  );
}
