/**
 * A real LSP client for tests: starts `mono lsp --stdio` as a child process (from
 * source, through tsx, as test/support/cli-process.ts does) and talks to it with
 * vscode-languageserver-protocol over the child's stdin and stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type InitializeResult,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type TextDocumentContentChangeEvent,
} from 'vscode-languageserver-protocol/node';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface LspClient {
  connection: ProtocolConnection;
  child: ChildProcess;
  initialize: InitializeResult;
  /** Opens a document (language id `mono`, version 1). */
  open(uri: string, text: string): void;
  /** Sends a didChange for `version`: the whole text, or ranged changes. */
  change(uri: string, version: number, changes: TextDocumentContentChangeEvent[]): void;
  /** Resolves with the first diagnostics published for `uri` at `version` (or later). */
  diagnostics(uri: string, version: number): Promise<PublishDiagnosticsParams>;
  /** shutdown, exit; resolves with the server's exit code. */
  stop(): Promise<number | null>;
  stderr(): string;
}

export async function startLspClient(): Promise<LspClient> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const published: PublishDiagnosticsParams[] = [];
  const waiting: Array<{ uri: string; version: number; resolve: (params: PublishDiagnosticsParams) => void }> = [];
  connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
    published.push(params);
    for (const waiter of [...waiting]) {
      if (waiter.uri === params.uri && (params.version ?? 0) >= waiter.version) {
        waiting.splice(waiting.indexOf(waiter), 1);
        waiter.resolve(params);
      }
    }
  });
  connection.listen();
  const initialize = await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {} });
  await connection.sendNotification(InitializedNotification.type, {});
  return {
    connection,
    child,
    initialize,
    open: (uri, text) => void connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'mono', version: 1, text } }),
    change: (uri, version, contentChanges) => void connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges }),
    diagnostics: (uri, version) => {
      const done = published.find((params) => params.uri === uri && (params.version ?? 0) >= version);
      if (done !== undefined) return Promise.resolve(done);
      return new Promise((resolve) => waiting.push({ uri, version, resolve }));
    },
    stop: async () => {
      await connection.sendRequest(ShutdownRequest.type);
      await connection.sendNotification(ExitNotification.type);
      const code = await exited;
      connection.dispose();
      return code;
    },
    stderr: () => stderr,
  };
}
