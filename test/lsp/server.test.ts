/**
 * `mono lsp` driven by a real LSP client over stdio: open a plan, edit it, and ask
 * for diagnostics, hover, definitions, references, completion, symbols, formatting
 * and quick fixes. One server process serves the whole file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  HoverRequest,
  ReferencesRequest,
  type CompletionItem,
  type CompletionList,
  type Diagnostic,
  type DocumentSymbol,
  type Location,
  type MarkupContent,
  type Position,
} from 'vscode-languageserver-protocol';
import { formatSource } from '../../src/syntax/printer.js';
import { startLspClient, type LspClient } from '../support/lsp-client.js';

const PLAN = `plan tiny

param width = 8

data synthetic(examples: 64, classes: 4, shape: [8, 8, 3]) {
  batch 16
}

block unit(f, stride = 1) {
  residual { conv(f, 3, stride: stride) bn relu conv(f, 3) bn }
  relu
}

head probe(classes) { global_avg_pool dense(classes) }

network input [8, 8, 3] {
  stem: conv(width, 3) bn relu
  body: unit(width) unit(2 * width, stride: 2)
  out: global_avg_pool dense(4)
}

partition p1 = stem .. body proxy probe(4)
partition p2 = out

schedule {
  train p1 for 1 epoch with msgd(lr: 0.1)
  train p2 for 1 epoch with msgd(lr: 0.05) { lr cosine(to: 1e-3) }
}
`;

/** The position of the `occurrence`-th `snippet` in `text`, moved `delta` characters right. */
function at(text: string, snippet: string, delta = 0, occurrence = 1): Position {
  let index = -1;
  for (let i = 0; i < occurrence; i++) index = text.indexOf(snippet, index + 1);
  if (index < 0) throw new Error(`no ${snippet}`);
  const before = text.slice(0, index + delta);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - (before.lastIndexOf('\n') + 1) };
}

let client: LspClient;
let version = 1;
const URI = 'file:///work/tiny.mono';

/** Replaces the whole text (a new version) and waits for its diagnostics. */
async function setText(text: string): Promise<Diagnostic[]> {
  version++;
  client.change(URI, version, [{ text }]);
  return (await client.diagnostics(URI, version)).diagnostics;
}

const request = <P, R>(type: { method: string }, params: P) => client.connection.sendRequest(type.method, params) as Promise<R>;
const doc = { uri: URI };
const labels = (items: CompletionItem[] | CompletionList | null) => (Array.isArray(items) ? items : (items?.items ?? [])).map((i) => i.label);
const hoverText = async (position: Position) => ((await request<unknown, { contents: MarkupContent } | null>(HoverRequest.type, { textDocument: doc, position }))?.contents.value ?? '');
const complete = (text: string, position: Position) => request<unknown, CompletionItem[] | null>(CompletionRequest.type, { textDocument: doc, position }).then(labels);

beforeAll(async () => {
  client = await startLspClient();
  client.open(URI, PLAN);
  await client.diagnostics(URI, 1);
});

afterAll(async () => {
  expect(await client.stop()).toBe(0);
});

describe('mono lsp', () => {
  it('announces its features', () => {
    const capabilities = client.initialize.capabilities;
    expect(capabilities).toMatchObject({ hoverProvider: true, definitionProvider: true, referencesProvider: true, documentSymbolProvider: true, documentFormattingProvider: true });
    expect(capabilities.completionProvider).toBeDefined();
    expect(capabilities.codeActionProvider).toBeDefined();
    expect(client.initialize.serverInfo?.name).toBe('mono');
  });

  it('serves from a child Node with a 32 MB semi-space (Linux: read from /proc)', () => {
    if (process.platform !== 'linux') return;
    const children = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return parent === client.child.pid ? [readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')] : [];
      } catch {
        return []; // a process that ended meanwhile
      }
    });
    // tsx's esbuild service is a child too: the server is the child that runs `lsp`.
    const servers = children.filter((args) => args.includes('lsp'));
    expect(servers).toHaveLength(1);
    expect(servers[0]).toContain('--max-semi-space-size=32');
  });

  it('publishes the compiler diagnostics as the plan is edited, hints included', async () => {
    expect((await client.diagnostics(URI, 1)).diagnostics).toEqual([]);
    // An incremental edit: 'conv(width' -> 'cnov(width' in the stem.
    const stem = at(PLAN, 'conv(width');
    version++;
    client.change(URI, version, [{ range: { start: stem, end: { line: stem.line, character: stem.character + 4 } }, text: 'cnov' }]);
    const broken = (await client.diagnostics(URI, version)).diagnostics;
    expect(broken).toHaveLength(1);
    expect(broken[0]).toMatchObject({ code: 'unknown-layer', severity: 1, source: 'mono', message: "unknown layer or block 'cnov'\ndid you mean 'conv'?" });
    expect(broken[0]!.range).toEqual({ start: stem, end: { line: stem.line, character: stem.character + 4 } });
    // A shape error two edits later; then back to a clean plan.
    await setText(PLAN.replace('dense(4)\n}', 'dense(5)\n}'));
    const shape = await setText(PLAN.replace('out: global_avg_pool dense(4)', 'out: dense(4)'));
    expect(shape.map((d) => d.code)).toEqual(['shape-mismatch']);
    expect(shape[0]!.range.start).toEqual(at(PLAN.replace('out: global_avg_pool dense(4)', 'out: dense(4)'), 'dense(4)'));
    expect(await setText(PLAN)).toEqual([]);
  });

  it('hovers a layer with its output shape, parameters and FLOPs', async () => {
    const text = await hoverText(at(PLAN, 'conv(width', 2));
    expect(text).toContain('**conv** · layer `conv(filters, kernel, stride: 1, padding: same, bias: false, init: he_normal)`');
    // 3x3 conv, 3 -> 8 channels on 8x8: 216 weights, 2 * 216 * 64 FLOPs.
    expect(text).toContain('output `[8, 8, 8]`');
    expect(text).toContain('216 trainable parameters · 27.6 kFLOP per example');
  });

  it('hovers a block use with the total of its layers, and a layer inside a block with every instance', async () => {
    const text = await hoverText(at(PLAN, 'unit(2 * width', 1));
    expect(text).toContain('**unit** · `block unit(f, stride = 1)`');
    // Branch: conv 8->16 stride 2 (1,152) + bn (32) + conv 16->16 (2,304) + bn (32); projection conv 8->16 (128) + bn (32).
    expect(text).toContain('output `[4, 4, 16]`');
    expect(text).toContain('3.7k trainable parameters (3,680)');
    const inside = await hoverText(at(PLAN, 'conv(f, 3, stride', 1));
    expect(inside).toContain('output `[8, 8, 8]` or `[4, 4, 16]`');
    expect(inside).toContain('2 instances');
  });

  it('hovers a name with its declaration', async () => {
    expect(await hoverText(at(PLAN, 'width, 3', 1))).toBe('`param width = 8`');
    expect(await hoverText(at(PLAN, 'stride)', 1))).toBe('parameter `stride = 1`');
  });

  it('goes to the definition of blocks, heads, params, parameters, sections and partitions', async () => {
    const definition = async (position: Position) => (await request<unknown, Location | null>(DefinitionRequest.type, { textDocument: doc, position }))?.range.start;
    expect(await definition(at(PLAN, 'unit(width)'))).toEqual(at(PLAN, 'unit(f'));
    expect(await definition(at(PLAN, 'probe(4)', 2))).toEqual(at(PLAN, 'probe(classes'));
    expect(await definition(at(PLAN, 'width, 3'))).toEqual(at(PLAN, 'width = 8'));
    expect(await definition(at(PLAN, 'f, 3)', 1))).toEqual(at(PLAN, 'f, stride = 1'));
    expect(await definition(at(PLAN, 'body proxy'))).toEqual(at(PLAN, 'body:'));
    expect(await definition(at(PLAN, 'p2 for'))).toEqual(at(PLAN, 'p2 ='));
    // Named argument of a block call: the block's parameter.
    expect(await definition(at(PLAN, 'stride: 2'))).toEqual(at(PLAN, 'stride = 1'));
  });

  it('finds every reference of a block and of a param', async () => {
    const references = async (position: Position, includeDeclaration: boolean) =>
      ((await request<unknown, Location[]>(ReferencesRequest.type, { textDocument: doc, position, context: { includeDeclaration } })) ?? []).map((l) => l.range.start);
    expect(await references(at(PLAN, 'unit(f'), true)).toEqual([at(PLAN, 'unit(f'), at(PLAN, 'unit(width'), at(PLAN, 'unit(2')]);
    expect(await references(at(PLAN, 'width = 8'), false)).toEqual([at(PLAN, 'width, 3'), at(PLAN, 'width) unit'), at(PLAN, 'width, stride: 2')]);
  });

  it('lists sections, partitions and phases as document symbols', async () => {
    const symbols = (await request<unknown, DocumentSymbol[]>(DocumentSymbolRequest.type, { textDocument: doc })) ?? [];
    expect(symbols.map((s) => s.name)).toEqual(['width', 'data synthetic', 'unit', 'probe', 'network', 'p1', 'p2', 'schedule']);
    expect(symbols.find((s) => s.name === 'network')?.children?.map((s) => s.name)).toEqual(['stem', 'body', 'out']);
    expect(symbols.find((s) => s.name === 'schedule')?.children?.map((s) => s.name)).toEqual(['train p1', 'train p2']);
    expect(symbols.find((s) => s.name === 'p1')?.detail).toBe('partition stem .. body proxy probe');
  });

  it('completes layer names, argument names and plan settings where they fit', async () => {
    const layers = await complete(PLAN, at(PLAN, 'bn relu\n  body', 3));
    expect(layers).toEqual(expect.arrayContaining(['conv', 'dense', 'maxpool', 'unit', 'repeat', 'residual']));
    expect(layers).not.toContain('probe');
    expect(await complete(PLAN, at(PLAN, 'width, 3)', 0))).toEqual(expect.arrayContaining(['width']));
    const conv = PLAN.replace('conv(width, 3)', 'conv(width, 3, )');
    await setText(conv);
    expect(await complete(conv, at(conv, ', )', 2))).toEqual(expect.arrayContaining(['filters', 'kernel', 'stride', 'padding', 'bias', 'init']));
    const convInit = PLAN.replace('conv(width, 3)', 'conv(width, 3, init: )');
    await setText(convInit);
    expect(await complete(convInit, at(convInit, 'init: )', 6))).toEqual(expect.arrayContaining(['he_normal', 'fan_in_uniform']));
    const residual = PLAN.replace('residual {', 'residual( ) {');
    await setText(residual);
    expect(await complete(residual, at(residual, 'residual( )', 9))).toEqual(expect.arrayContaining(['projection', 'scale', 'init']));
    const block = PLAN.replace('unit(width)', 'unit(width, )');
    await setText(block);
    expect(await complete(block, at(block, 'unit(width, )', 12))).toEqual(expect.arrayContaining(['f', 'stride']));
    const data = PLAN.replace('  batch 16\n', '  batch 16\n  \n');
    await setText(data);
    expect(await complete(data, at(data, '  \n}', 2))).toEqual(expect.arrayContaining(['augment', 'normalize', 'holdout', 'seed', 'limit']));
    const phase = PLAN.replace('{ lr cosine(to: 1e-3) }', '{ lr  }');
    await setText(phase);
    expect(await complete(phase, at(phase, '{ lr  }', 5))).toEqual(expect.arrayContaining(['cosine', 'onecycle', 'warmup']));
    expect(await complete(phase, at(phase, 'msgd(lr: 0.05)', 0))).toEqual(expect.arrayContaining(['msgd', 'adam', 'sgd']));
    expect(await complete(phase, at(phase, 'p2 for', 0))).toEqual(expect.arrayContaining(['p1', 'p2']));
    expect(await complete(phase, at(phase, 'probe(4)', 0, 1))).toEqual(['probe']);
    await setText(PLAN);
  });

  it('formats through the printer, and leaves a plan with syntax errors alone', async () => {
    const messy = PLAN.replace('param width = 8', 'param   width=8').replace('  batch 16', 'batch    16');
    await setText(messy);
    const edits = await request<unknown, { newText: string }[]>(DocumentFormattingRequest.type, { textDocument: doc, options: { tabSize: 2, insertSpaces: true } });
    expect(edits).toHaveLength(1);
    expect(edits[0]!.newText).toBe(formatSource(messy, 'x.mono').output);
    await setText(PLAN + 'network {');
    expect(await request(DocumentFormattingRequest.type, { textDocument: doc, options: { tabSize: 2, insertSpaces: true } })).toEqual([]);
    await setText(PLAN);
  });

  it('offers the did-you-mean suggestion as a quick fix that replaces only the name', async () => {
    const typo = PLAN.replace('stem: conv(width, 3)', 'stem: cnov(width, 3, strid: 1)');
    const diagnostics = await setText(typo);
    expect(diagnostics.map((d) => d.code).sort()).toEqual(['unknown-layer']);
    const fixes = await request<unknown, { title: string; edit: { changes: Record<string, { newText: string; range: { start: Position; end: Position } }[]> } }[]>(CodeActionRequest.type, {
      textDocument: doc,
      range: diagnostics[0]!.range,
      context: { diagnostics },
    });
    expect(fixes.map((f) => f.title)).toEqual(["Change 'cnov' to 'conv'"]);
    const start = at(typo, 'cnov');
    expect(fixes[0]!.edit.changes[URI]).toEqual([{ range: { start, end: { line: start.line, character: start.character + 4 } }, newText: 'conv' }]);
    // The argument's diagnostic covers `strid: 1`; the fix replaces `strid` only.
    const argument = await setText(typo.replace('cnov', 'conv'));
    expect(argument.map((d) => d.code)).toEqual(['unknown-argument']);
    const fix = await request<unknown, { edit: { changes: Record<string, { newText: string; range: { start: Position; end: Position } }[]> } }[]>(CodeActionRequest.type, {
      textDocument: doc,
      range: argument[0]!.range,
      context: { diagnostics: argument },
    });
    const strid = at(typo, 'strid: 1');
    expect(fix[0]!.edit.changes[URI]).toEqual([{ range: { start: strid, end: { line: strid.line, character: strid.character + 5 } }, newText: 'stride' }]);
    await setText(PLAN);
  });
});
