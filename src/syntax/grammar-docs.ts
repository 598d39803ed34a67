/**
 * The grammar documents of grammar/, rendered from the parser itself so they
 * cannot drift from it: a readable EBNF, and Chevrotain's railroad diagrams.
 * scripts/generate-grammar.ts writes them; a test checks they are current.
 */
import {
  Alternation,
  Alternative,
  createSyntaxDiagramsCode,
  generateCstDts,
  NonTerminal,
  Option,
  Repetition,
  RepetitionMandatory,
  RepetitionMandatoryWithSeparator,
  RepetitionWithSeparator,
  Rule,
  Terminal,
  type IProduction,
  type TokenType,
} from './chevrotain.js';
import { MAX_NESTING, monoParser } from './parser.js';
import * as T from './tokens.js';

/** Tokens without a fixed spelling are written as upper-case names and defined at the end. */
const TOKEN_CLASSES = new Map<TokenType, string>([
  [T.Identifier, 'NAME'],
  [T.ArgumentName, 'ARGUMENT_NAME'],
  [T.NumberLiteral, 'NUMBER'],
  [T.PercentLiteral, 'PERCENT'],
  [T.StringLiteral, 'STRING'],
]);

const LEXICAL_RULES = [
  'NAME          = /[A-Za-z_][A-Za-z0-9_]*/ , not a keyword ;',
  'ARGUMENT_NAME = NAME | a keyword ;                        (* warmup(epochs: 1) *)',
  'NUMBER        = /\\d+(\\.\\d+)?([eE][+-]?\\d+)?/ ;                 (* 3, 0.1, 1e-3, 1e+21 *)',
  'PERCENT       = NUMBER "%" ;                                  (* no space before % *)',
  'STRING        = \'"\' ( any character but " or \\ or a line break | \'\\"\' | \'\\\\\' )* \'"\' ;',
  'COMMENT       = ( "#" | "//" ) ( any character but a line break )* ;',
];

function terminal(tokenType: TokenType): string {
  const named = TOKEN_CLASSES.get(tokenType);
  if (named !== undefined) return named;
  const spelling = (tokenType.LABEL ?? tokenType.name).replace(/^'(.*)'$/, '$1');
  return `"${spelling}"`;
}

/** Wraps a sequence in parentheses when a postfix operator would otherwise bind to its last element only. */
function group(productions: readonly IProduction[]): string {
  const text = sequence(productions);
  return productions.length === 1 && !(productions[0] instanceof Alternation) ? text : `( ${text} )`;
}

function sequence(productions: readonly IProduction[]): string {
  return productions.map(production).join(' ');
}

function production(node: IProduction): string {
  if (node instanceof Terminal) return terminal(node.terminalType);
  if (node instanceof NonTerminal) return node.nonTerminalName;
  if (node instanceof Alternative) return sequence(node.definition);
  if (node instanceof Alternation) return `( ${node.definition.map(production).join(' | ')} )`;
  if (node instanceof Option) return `${group(node.definition)}?`;
  if (node instanceof Repetition) return `${group(node.definition)}*`;
  if (node instanceof RepetitionMandatory) return `${group(node.definition)}+`;
  if (node instanceof RepetitionWithSeparator) {
    const item = sequence(node.definition);
    return `( ${item} ( ${terminal(node.separator)} ${item} )* )?`;
  }
  if (node instanceof RepetitionMandatoryWithSeparator) {
    const item = sequence(node.definition);
    return `${item} ( ${terminal(node.separator)} ${item} )*`;
  }
  throw new Error(`unknown grammar production ${node.constructor.name}`);
}

/** A rule whose body is one alternation gets one alternative per line. */
function rule(node: Rule): string {
  const [only] = node.definition;
  if (node.definition.length === 1 && only instanceof Alternation) {
    const alternatives = only.definition.map(production);
    return `${node.name}\n  = ${alternatives.join('\n  | ')}\n  ;`;
  }
  return `${node.name}\n  = ${sequence(node.definition)}\n  ;`;
}

export function renderEbnf(): string {
  const rules = Object.values(monoParser.getGAstProductions());
  const keywords = [...T.KEYWORDS].map((k) => `"${k}"`).join(' ');
  return [
    '(* The grammar of .mono plans, generated from src/syntax/parser.ts by scripts/generate-grammar.ts. Do not edit. *)',
    '(* Notation: x? optional, x* zero or more, x+ one or more, ( ) grouping, "text" a literal token. *)',
    '(* Whitespace, line breaks and COMMENTs may appear between any two tokens and carry no meaning. *)',
    '(* A section\'s layer items end where the next NAME ":" begins. *)',
    `(* A plan nests at most ${MAX_NESTING} levels deep. One level each: ( ), [ ], the { } of a block, head, residual, repeat, data or phase, "repeat", a unary "-", and each binary operator of a chain (docs/language.md). *)`,
    '',
    ...rules.map(rule).flatMap((text) => [text, '']),
    '(* Lexical rules *)',
    '',
    ...LEXICAL_RULES,
    '',
    `(* Keywords: ${keywords} *)`,
    '',
  ].join('\n');
}

/** The installed package serves the diagram scripts: grammar/ is one level below the project root. */
const DIAGRAMS_BASE = '../node_modules/chevrotain/diagrams/';

export function renderDiagramsHtml(): string {
  return createSyntaxDiagramsCode(monoParser.getSerializedGastProductions(), {
    resourceBase: DIAGRAMS_BASE,
    css: `${DIAGRAMS_BASE}diagrams.css`,
  });
}

/**
 * The types of the parser's concrete syntax tree (one interface per rule, naming
 * each rule's children), from Chevrotain's generateCstDts. build-ast.ts reads the
 * CST through them, so a misspelled or removed child name fails the type check.
 * Chevrotain is imported through ./chevrotain.js, as everywhere in mono.
 */
export function renderCstTypes(): string {
  const types = generateCstDts(monoParser.getGAstProductions(), { includeVisitorInterface: false });
  return [
    '// The concrete syntax tree of the .mono parser: one interface per rule of src/syntax/parser.ts.',
    '// Generated by scripts/generate-grammar.ts (npm run grammar) with Chevrotain\'s generateCstDts. Do not edit.',
    types.replace(/^import type .* from "chevrotain";$/m, "import type { CstNode, IToken } from './chevrotain.js';").trimEnd(),
    '',
  ].join('\n');
}

export const GRAMMAR_FILES = {
  ebnf: 'grammar/mono.ebnf',
  diagrams: 'grammar/diagrams.html',
  cstTypes: 'src/syntax/cst-types.ts',
} as const;
