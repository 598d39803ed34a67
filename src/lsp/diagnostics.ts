/**
 * The compiler's diagnostics as the protocol's, and the quick fixes of the ones that
 * carry a "did you mean" hint: replace the misspelled name by the suggestion.
 */
import { CodeActionKind, DiagnosticSeverity, type CodeAction, type Diagnostic as LspDiagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { toLspRange } from './positions.js';

export const SOURCE = 'mono';

/** What a quick fix needs, carried in the diagnostic's `data` and sent back by the client. */
interface FixData {
  replacement: string;
}

const DID_YOU_MEAN = /did you mean '([^']+)'\?/;

export function toLspDiagnostic(diagnostic: Diagnostic): LspDiagnostic {
  const converted: LspDiagnostic = {
    range: toLspRange(diagnostic.range),
    severity: diagnostic.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: diagnostic.code,
    source: SOURCE,
    message: diagnostic.hint === undefined ? diagnostic.message : `${diagnostic.message}\n${diagnostic.hint}`,
  };
  const suggestion = diagnostic.hint === undefined ? undefined : DID_YOU_MEAN.exec(diagnostic.hint)?.[1];
  if (suggestion !== undefined) converted.data = { replacement: suggestion } satisfies FixData;
  return converted;
}

/**
 * A quick fix per did-you-mean diagnostic: the name at the start of its range (a
 * diagnostic about an argument covers `strid: 2`; only `strid` is replaced).
 */
export function quickFixes(document: TextDocument, diagnostics: readonly LspDiagnostic[]): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const diagnostic of diagnostics) {
    if (diagnostic.source !== SOURCE) continue;
    const data = diagnostic.data as Partial<FixData> | undefined;
    const message = typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value;
    const replacement = typeof data?.replacement === 'string' ? data.replacement : DID_YOU_MEAN.exec(message)?.[1];
    if (replacement === undefined) continue;
    const start = document.offsetAt(diagnostic.range.start);
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(document.getText().slice(start, document.offsetAt(diagnostic.range.end)))?.[0];
    if (name === undefined || name === replacement) continue;
    const range = { start: diagnostic.range.start, end: document.positionAt(start + name.length) };
    actions.push({
      title: `Change '${name}' to '${replacement}'`,
      kind: CodeActionKind.QuickFix,
      diagnostics: [diagnostic],
      isPreferred: true,
      edit: { changes: { [document.uri]: [{ range, newText: replacement }] } },
    });
  }
  return actions;
}
