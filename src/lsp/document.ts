/**
 * One open plan at one version, with what the features need, each computed on first
 * use and kept for that version: the diagnostics-only compilation (no IR: the
 * editor wants the checks, fast), the expansion trace (a second compilation that
 * records what each layer item made, for hover), and the name resolution.
 */
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { compilePlan, type CompileResult } from '../compile.js';
import { ExpansionTrace } from '../semantics/trace.js';
import type { Plan } from '../syntax/ast.js';
import { resolvePlan, type Resolution } from './resolve.js';

export class PlanDocument {
  private compiledResult: CompileResult | undefined;
  private traceResult: { plan: Plan | undefined; trace: ExpansionTrace } | undefined;
  private resolution: Resolution | undefined;

  readonly uri: string;
  readonly version: number;
  /** The text at this version (the TextDocument itself is updated in place by later changes). */
  readonly source: string;

  constructor(readonly text: TextDocument) {
    this.uri = text.uri;
    this.version = text.version;
    this.source = text.getText();
  }

  /** `position` as an offset into this version's text. */
  offsetAt(position: { line: number; character: number }): number {
    return this.text.version === this.version ? this.text.offsetAt(position) : offsetIn(this.source, position);
  }

  get compiled(): CompileResult {
    this.compiledResult ??= compilePlan(this.source, this.uri, { lower: false });
    return this.compiledResult;
  }

  /** The parsed plan: present after syntax errors too when recovery kept its header. */
  get plan(): Plan | undefined {
    return this.compiled.plan;
  }

  /** What each layer item expanded to, keyed by the nodes of `plan` (its own parse of this version). */
  get traced(): { plan: Plan | undefined; trace: ExpansionTrace } {
    if (this.traceResult === undefined) {
      const trace = new ExpansionTrace();
      const { plan } = compilePlan(this.source, this.uri, { lower: false, trace });
      this.traceResult = { plan, trace };
    }
    return this.traceResult;
  }

  get resolved(): Resolution | undefined {
    if (this.resolution === undefined && this.plan !== undefined) this.resolution = resolvePlan(this.plan);
    return this.resolution;
  }
}

function offsetIn(text: string, position: { line: number; character: number }): number {
  let offset = 0;
  for (let line = 0; line < position.line; line++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return Math.min(text.length, offset + position.character);
}
