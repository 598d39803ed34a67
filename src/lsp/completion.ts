/**
 * Completion from the text before the cursor: the tokens there say which body the
 * cursor is in (data, network, a block, the schedule, a phase) and which call's
 * argument list, and so what may come next: layer and block names, argument names of
 * that layer, block, optimizer, schedule or data source, data and phase settings,
 * schedule and optimizer names, sections, partitions, heads, params in scope, keywords.
 * Token-based rather than AST-based because the text being typed rarely parses.
 */
import { CompletionItemKind, type CompletionItem } from 'vscode-languageserver';
import { dataSourceCatalog, DATA_SETTINGS } from '../semantics/catalog/data.js';
import { layerCatalog } from '../semantics/catalog/layers.js';
import { optimizerCatalog, PHASE_SETTINGS } from '../semantics/catalog/optimizers.js';
import { MONITORED_METRICS, SCHEDULE_SETTINGS, stoppingCatalog } from '../semantics/catalog/stopping.js';
import { SCHEDULE_NAMES, scheduleCatalog } from '../semantics/catalog/schedules.js';
import { RESIDUAL_SIGNATURE } from '../semantics/expand.js';
import type { ParamSignature } from '../semantics/signature.js';
import type { ValueType } from '../semantics/types.js';
import type { IToken } from '../syntax/chevrotain.js';
import * as T from '../syntax/tokens.js';
import type { PlanDocument } from './document.js';
import { nodesAt } from './positions.js';
import { builtinSignature, parameterDetail, parameterText, signatureText } from './signatures.js';

type BraceContext = 'data' | 'network' | 'layers' | 'schedule' | 'phase' | 'other';
type CallSite = 'layer' | 'proxy' | 'optimizer' | 'data' | 'value' | 'residual' | 'shared' | 'none';

interface Paren {
  callee: string | undefined;
  site: CallSite;
}

interface CursorContext {
  braces: BraceContext[];
  parens: Paren[];
  /** The tokens of the current statement (since the last brace or line start at the current level). */
  last: IToken | undefined;
  beforeLast: IToken | undefined;
  /** The cursor starts a statement: nothing but white space before it on its line, or right after `{`. */
  lineStart: boolean;
  /** The first token of the statement the cursor is in (a setting's name, `partition`), if it has begun. */
  lineFirst: IToken | undefined;
}

const DECLARATION_KEYWORDS = ['param', 'data', 'block', 'head', 'network', 'partition', 'schedule'];
const DATA_SETTING_VALUES: Record<string, string[]> = { augment: ['crop', 'flip'], normalize: ['per_channel', 'none', 'fixed'] };

const BRACE_OF = new Map<string, BraceContext>([
  ['Data', 'data'],
  ['Network', 'network'],
  ['Block', 'layers'],
  ['Head', 'layers'],
  ['Residual', 'layers'],
  ['Repeat', 'layers'],
  ['Schedule', 'schedule'],
  ['Train', 'phase'],
  ['Finetune', 'phase'],
]);

function analyzeContext(before: string, lineStart: boolean): CursorContext {
  const tokens = T.monoLexer.tokenize(before).tokens;
  const braces: BraceContext[] = [];
  const parens: Paren[] = [];
  let statement: string | undefined;
  let previous: IToken | undefined;
  let beforePrevious: IToken | undefined;
  let first: IToken | undefined;
  for (const token of tokens) {
    const type = token.tokenType;
    // A statement starts after a brace, and on a new line outside parentheses.
    if (previous === undefined || previous.tokenType === T.LCurly || previous.tokenType === T.RCurly || (parens.length === 0 && token.startLine !== previous.endLine)) first = token;
    if (type === T.LCurly) {
      braces.push(BRACE_OF.get(statement ?? '') ?? 'other');
      statement = undefined;
    } else if (type === T.RCurly) {
      braces.pop();
      statement = undefined;
    } else if (type === T.LParen) {
      const callee = previous?.tokenType === T.Identifier ? previous.image : undefined;
      parens.push({ callee, site: callSite(previous, beforePrevious, braces[braces.length - 1], parens.length) });
    } else if (type === T.RParen) {
      parens.pop();
    } else if (parens.length === 0 && BRACE_OF.has(type.name)) {
      statement = type.name;
    }
    beforePrevious = previous;
    previous = token;
  }
  const startsStatement = lineStart || previous?.tokenType === T.LCurly || previous?.tokenType === T.RCurly;
  return { braces, parens, last: previous, beforeLast: beforePrevious, lineStart: startsStatement, lineFirst: startsStatement ? undefined : first };
}

function callSite(previous: IToken | undefined, beforePrevious: IToken | undefined, brace: BraceContext | undefined, depth: number): CallSite {
  if (previous === undefined) return 'none';
  if (previous.tokenType === T.Residual) return 'residual';
  if (previous.tokenType === T.Shared) return 'shared';
  if (previous.tokenType !== T.Identifier) return 'none';
  if (depth > 0) return 'value';
  if (beforePrevious?.tokenType === T.With) return 'optimizer';
  if (beforePrevious?.tokenType === T.Data) return 'data';
  if (beforePrevious?.tokenType === T.Proxy) return 'proxy';
  if (brace === 'network' || brace === 'layers') return 'layer';
  return 'value';
}

function item(label: string, kind: CompletionItemKind, detail?: string, insertText?: string): CompletionItem {
  const completion: CompletionItem = { label, kind };
  if (detail !== undefined) completion.detail = detail;
  if (insertText !== undefined) completion.insertText = insertText;
  return completion;
}

function keywords(words: readonly string[]): CompletionItem[] {
  return words.map((word) => item(word, CompletionItemKind.Keyword));
}

/** Words and calls a value of this type may be. */
function valueWords(type: ValueType): CompletionItem[] {
  switch (type.kind) {
    case 'enum':
      return type.words.map((word) => item(word, CompletionItemKind.EnumMember));
    case 'call':
      return type.callees.map((callee) => item(callee, CompletionItemKind.Function, type.label));
    case 'union':
      return type.options.flatMap(valueWords);
    case 'boolean':
      return keywords(['true', 'false']);
    default:
      return [];
  }
}

function argumentNames(params: readonly ParamSignature[]): CompletionItem[] {
  return params.map((param) => item(param.name, CompletionItemKind.Property, `${parameterText(param)}: ${parameterDetail(param)}`, `${param.name}: `));
}

export function completions(document: PlanDocument, offset: number): CompletionItem[] {
  const text = document.source;
  const lineBegin = text.lastIndexOf('\n', offset - 1) + 1;
  const linePrefix = text.slice(lineBegin, offset);
  // No completion inside a comment or a string.
  if (/#|\/\/|"/.test(linePrefix.replace(/"(?:[^"\\]|\\.)*"/g, ''))) return [];
  const word = /[A-Za-z_][A-Za-z0-9_]*$/.exec(linePrefix)?.[0] ?? '';
  const before = text.slice(0, offset - word.length);
  const context = analyzeContext(before, linePrefix.slice(0, linePrefix.length - word.length).trim() === '');
  const resolution = document.resolved;
  const plan = document.plan;

  // Params in scope: the plan's, and the parameters of the block or head around the cursor.
  const scope: CompletionItem[] = [...(resolution?.params.values() ?? [])].map((d) => item(d.name, CompletionItemKind.Variable, 'param'));
  const enclosing = plan === undefined ? undefined : nodesAt(plan, offset).find((node) => node.kind === 'Block' || node.kind === 'Head');
  if (enclosing?.kind === 'Block' || enclosing?.kind === 'Head') {
    for (const parameter of enclosing.params) scope.push(item(parameter.name.name, CompletionItemKind.Variable, `parameter of ${enclosing.name.name}`));
  }
  const blocks = [...(resolution?.layerDefinitions.values() ?? [])].filter((d) => d.kind === 'block');
  const heads = [...(resolution?.layerDefinitions.values() ?? [])].filter((d) => d.kind === 'head');
  const layerNames = (): CompletionItem[] => [
    ...[...layerCatalog.values()].map((layer) => item(layer.name, CompletionItemKind.Function, signatureText(layer.name, layer.signature.params))),
    ...blocks.map((block) => item(block.name, CompletionItemKind.Function, 'block')),
    ...keywords(['repeat', 'residual']),
  ];
  const last = context.last?.tokenType;

  // Inside an argument list.
  const paren = context.parens[context.parens.length - 1];
  if (paren !== undefined) {
    let params: readonly ParamSignature[] | undefined;
    let blockParams: string[] | undefined;
    if (paren.site === 'layer' || paren.site === 'proxy') {
      const definition = resolution?.layerDefinitions.get(paren.callee ?? '');
      if (definition?.node.kind === 'Block' || definition?.node.kind === 'Head') blockParams = definition.node.params.map((p) => p.name.name);
      else params = builtinSignature(paren.callee ?? '', 'layer')?.signature.params;
    } else if (paren.site === 'optimizer' || paren.site === 'data' || paren.site === 'value') {
      params = builtinSignature(paren.callee ?? '', paren.site === 'value' ? 'value' : paren.site)?.signature.params;
    } else if (paren.site === 'residual') {
      params = RESIDUAL_SIGNATURE.params;
    } else if (paren.site === 'shared') {
      params = [{ name: 'scale', type: { kind: 'number' } }];
    }
    if (last === T.Colon && context.beforeLast !== undefined) {
      // The value of a named argument: words of its type, and the params in scope.
      const param = params?.find((p) => p.name === context.beforeLast!.image);
      return [...(param ? valueWords(param.type) : []), ...scope];
    }
    if (last === T.LParen || last === T.Comma) {
      const names = params ? argumentNames(params) : (blockParams ?? []).map((name) => item(name, CompletionItemKind.Property, 'parameter', `${name}: `));
      return [...names, ...scope];
    }
    return scope;
  }

  const brace = context.braces[context.braces.length - 1];
  if (brace === undefined) {
    // Top level.
    if (context.lineStart) return keywords(DECLARATION_KEYWORDS);
    if (last === T.Data) return [...dataSourceCatalog.keys()].map((name) => item(name, CompletionItemKind.Function, signatureText(name, dataSourceCatalog.get(name)!.signature.params)));
    if (last === T.Proxy) return heads.map((head) => item(head.name, CompletionItemKind.Function, 'head'));
    if (last === T.Network) return keywords(['input']);
    if (context.lineFirst?.tokenType === T.Partition && (last === T.Equals || last === T.DotDot)) {
      return [...(resolution?.sections.values() ?? [])].map((d) => item(d.name, CompletionItemKind.Field, 'section'));
    }
    if (context.lineFirst?.tokenType === T.Partition && last === T.Identifier) return keywords(['proxy']);
    return scope;
  }
  switch (brace) {
    case 'network':
    case 'layers':
      return layerNames();
    case 'data': {
      if (context.lineStart) return DATA_SETTINGS.map((name) => item(name, CompletionItemKind.Property, 'data setting'));
      const setting = context.lineFirst?.image ?? '';
      return [...(DATA_SETTING_VALUES[setting] ?? []).map((name) => item(name, CompletionItemKind.EnumMember)), ...scope];
    }
    case 'phase': {
      if (context.lineStart) return PHASE_SETTINGS.map((name) => item(name, CompletionItemKind.Property, 'phase setting'));
      const setting = context.lineFirst?.image ?? '';
      if (setting === 'lr' || setting === 'momentum') {
        return [...SCHEDULE_NAMES.map((name) => item(name, CompletionItemKind.Function, signatureText(name, scheduleCatalog.get(name)?.params ?? []))), ...scope];
      }
      if (setting === 'stop') return [...[...stoppingCatalog.values()].map((s) => item(s.name, CompletionItemKind.Function, signatureText(s.name, s.params))), ...scope];
      return scope;
    }
    case 'schedule':
      if (context.lineStart) return [...keywords(['train', 'finetune']), ...SCHEDULE_SETTINGS.map((name) => item(name, CompletionItemKind.Property, 'schedule setting'))];
      if (context.lineFirst?.image === 'best') return MONITORED_METRICS.map((name) => item(name, CompletionItemKind.EnumMember));
      if (last === T.Train) return [...(resolution?.partitions.values() ?? [])].map((d) => item(d.name, CompletionItemKind.Struct, 'partition'));
      if (last === T.Finetune) return keywords(['all']);
      if (last === T.Epochs || last === T.Epoch) return keywords(['with']);
      if (last === T.With) return [...optimizerCatalog.values()].map((signature) => item(signature.name, CompletionItemKind.Function, signatureText(signature.name, signature.params)));
      return scope;
    default:
      return scope;
  }
}
