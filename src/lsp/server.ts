/**
 * `mono lsp`: a Language Server Protocol server on a pair of streams (stdin/stdout
 * for the command), built on vscode-languageserver. Features: diagnostics as you
 * type (the compiler's, with their hints), hover (shape, parameters and FLOPs of a
 * layer or block use), go-to-definition and find-references (blocks, heads, params,
 * parameters, sections, partitions), document symbols, completion, formatting
 * through mono's printer, and quick fixes for "did you mean".
 *
 * Each change is compiled after a short quiet time (DEBOUNCE_MS) so that a burst of
 * keystrokes is compiled once; diagnostics are published with the document version
 * they belong to, and a stale compilation's are dropped.
 */
import {
  createConnection,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
  type Location,
  type MessageReader,
  type MessageWriter,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { formatSource } from '../syntax/printer.js';
import { completions } from './completion.js';
import { quickFixes, toLspDiagnostic } from './diagnostics.js';
import { PlanDocument } from './document.js';
import { hover } from './hover.js';
import { toLspRange } from './positions.js';
import { occurrenceAt } from './resolve.js';
import { documentSymbols } from './symbols.js';

/** Quiet time after a change before it is compiled: long enough to merge a burst of keystrokes, short next to the 50 ms goal. */
export const DEBOUNCE_MS = 5;

export function startLanguageServer(reader: MessageReader, writer: MessageWriter, version: string): Connection {
  const connection = createConnection(reader, writer);
  const documents = new TextDocuments(TextDocument);
  const plans = new Map<string, PlanDocument>();
  const timers = new Map<string, NodeJS.Timeout>();

  const planOf = (uri: string): PlanDocument | undefined => {
    const text = documents.get(uri);
    if (text === undefined) return undefined;
    let plan = plans.get(uri);
    if (plan === undefined || plan.version !== text.version) {
      plan = new PlanDocument(text);
      plans.set(uri, plan);
    }
    return plan;
  };

  const validate = (uri: string): void => {
    timers.delete(uri);
    const plan = planOf(uri);
    if (plan === undefined) return;
    const diagnostics = plan.compiled.diagnostics.map(toLspDiagnostic);
    // A newer version arrived while this one compiled: its own validation will publish.
    if (documents.get(uri)?.version !== plan.version) return;
    void connection.sendDiagnostics({ uri, version: plan.version, diagnostics });
  };

  documents.onDidChangeContent(({ document }) => {
    clearTimeout(timers.get(document.uri));
    timers.set(document.uri, setTimeout(() => validate(document.uri), DEBOUNCE_MS));
  });
  documents.onDidClose(({ document }) => {
    clearTimeout(timers.get(document.uri));
    timers.delete(document.uri);
    plans.delete(document.uri);
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  });

  connection.onInitialize(
    (): InitializeResult => ({
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        documentSymbolProvider: true,
        documentFormattingProvider: true,
        completionProvider: { triggerCharacters: ['(', ',', ':', ' '] },
        codeActionProvider: { codeActionKinds: ['quickfix'] },
      },
      serverInfo: { name: 'mono', version },
    }),
  );

  connection.onHover(({ textDocument, position }) => {
    const plan = planOf(textDocument.uri);
    return plan === undefined ? null : (hover(plan, plan.offsetAt(position)) ?? null);
  });

  const occurrence = (uri: string, position: { line: number; character: number }) => {
    const plan = planOf(uri);
    const resolution = plan?.resolved;
    if (plan === undefined || resolution === undefined) return undefined;
    const found = occurrenceAt(resolution, plan.offsetAt(position));
    return found === undefined ? undefined : { found, resolution };
  };

  connection.onDefinition(({ textDocument, position }): Location | null => {
    const at = occurrence(textDocument.uri, position);
    return at === undefined ? null : { uri: textDocument.uri, range: toLspRange(at.found.definition.identifier.loc) };
  });

  connection.onReferences(({ textDocument, position, context }): Location[] => {
    const at = occurrence(textDocument.uri, position);
    if (at === undefined) return [];
    return at.resolution.occurrences
      .filter((o) => o.definition === at.found.definition && (context.includeDeclaration || !o.isDeclaration))
      .map((o) => ({ uri: textDocument.uri, range: toLspRange(o.range) }));
  });

  connection.onDocumentSymbol(({ textDocument }) => {
    const plan = planOf(textDocument.uri)?.plan;
    return plan === undefined ? [] : documentSymbols(plan);
  });

  connection.onCompletion(({ textDocument, position }) => {
    const plan = planOf(textDocument.uri);
    return plan === undefined ? [] : completions(plan, plan.offsetAt(position));
  });

  connection.onDocumentFormatting(({ textDocument }) => {
    const text = documents.get(textDocument.uri);
    if (text === undefined) return [];
    const source = text.getText();
    // A plan with syntax errors is left as it is (the printer needs the whole tree).
    const formatted = formatSource(source, textDocument.uri).output;
    if (formatted === undefined || formatted === source) return [];
    return [{ range: { start: { line: 0, character: 0 }, end: text.positionAt(source.length) }, newText: formatted }];
  });

  connection.onCodeAction(({ textDocument, context }) => {
    const text = documents.get(textDocument.uri);
    return text === undefined ? [] : quickFixes(text, context.diagnostics);
  });

  documents.listen(connection);
  connection.listen();
  return connection;
}
