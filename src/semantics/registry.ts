import type { Declaration, Plan } from '../syntax/ast.js';
import type { Reporter } from './reporter.js';
import type { SymbolTable } from './symbols.js';

export type CheckedKind = Declaration['kind'] | 'Plan';
export type NodeOfKind<K extends CheckedKind> = K extends 'Plan' ? Plan : Extract<Declaration, { kind: K }>;

export interface CheckContext {
  symbols: SymbolTable;
  reporter: Reporter;
}

export type Check<K extends CheckedKind> = (node: NodeOfKind<K>, context: CheckContext) => void;

/**
 * Validation checks keyed by the kind of node they look at (in the manner of
 * Langium's ValidationRegistry). A check reports into the context and never
 * stops the others: every problem of a plan is reported at once.
 */
export class CheckRegistry {
  private readonly checks = new Map<CheckedKind, Array<(node: Plan | Declaration, context: CheckContext) => void>>();

  register<K extends CheckedKind>(kind: K, ...checks: Array<Check<K>>): this {
    const list = this.checks.get(kind) ?? [];
    for (const check of checks) list.push(check as (node: Plan | Declaration, context: CheckContext) => void);
    this.checks.set(kind, list);
    return this;
  }

  run(plan: Plan, context: CheckContext): void {
    for (const check of this.checks.get('Plan') ?? []) check(plan, context);
    for (const declaration of plan.declarations) {
      for (const check of this.checks.get(declaration.kind) ?? []) check(declaration, context);
    }
  }
}
