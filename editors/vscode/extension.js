// The VS Code client of `mono lsp`: starts the server over stdio for .mono files.
// Plain CommonJS, so the folder runs as it is after `npm install` (no build step).
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

/** @type {import('vscode-languageclient/node').LanguageClient | undefined} */
let client;

/** @param {import('vscode').ExtensionContext} context */
async function activate(context) {
  const settings = vscode.workspace.getConfiguration('mono');
  const command = settings.get('server.command', 'mono');
  const args = [...settings.get('server.args', []), 'lsp'];
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient(
    'mono',
    'mono language server',
    { run: server, debug: server },
    { documentSelector: [{ scheme: 'file', language: 'mono' }, { scheme: 'untitled', language: 'mono' }] },
  );
  context.subscriptions.push(client);
  await client.start();
}

async function deactivate() {
  if (client !== undefined) await client.stop();
}

module.exports = { activate, deactivate };
