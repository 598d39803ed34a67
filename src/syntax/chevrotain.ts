/**
 * Chevrotain, loaded from the single-file ES module bundle that its package ships
 * (lib/chevrotain.mjs). The package's entry point imports hundreds of lodash-es
 * modules one by one: about 450 ms of start-up for every `mono` command, against
 * about 30 ms for the bundle, which is the same code. The bundle is not listed in
 * the package's `exports`, so it is reached by file URL next to the entry point.
 * Every module of mono takes Chevrotain from here, never from 'chevrotain' itself,
 * so that one copy of its classes is in use.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as ChevrotainModule from 'chevrotain';

const entryPoint = createRequire(import.meta.url).resolve('chevrotain'); // <package>/lib/src/api.js
const bundle = pathToFileURL(path.join(path.dirname(entryPoint), '..', 'chevrotain.mjs')).href;
const chevrotain = (await import(bundle)) as typeof ChevrotainModule;

export const {
  Alternation,
  Alternative,
  createSyntaxDiagramsCode,
  generateCstDts,
  createToken,
  CstParser,
  EOF,
  Lexer,
  NonTerminal,
  Option,
  Repetition,
  RepetitionMandatory,
  RepetitionMandatoryWithSeparator,
  RepetitionWithSeparator,
  Rule,
  Terminal,
} = chevrotain;

export type {
  CstElement,
  CstNode,
  ILexingError,
  IOrAlt,
  IParserErrorMessageProvider,
  IProduction,
  IRecognitionException,
  IToken,
  TokenType,
} from 'chevrotain';

// The classes above as types too (a destructured constant is a value only).
export type Alternation = ChevrotainModule.Alternation;
export type Alternative = ChevrotainModule.Alternative;
export type CstParser = ChevrotainModule.CstParser;
export type Lexer = ChevrotainModule.Lexer;
export type NonTerminal = ChevrotainModule.NonTerminal;
export type Option = ChevrotainModule.Option;
export type Repetition = ChevrotainModule.Repetition;
export type RepetitionMandatory = ChevrotainModule.RepetitionMandatory;
export type RepetitionMandatoryWithSeparator = ChevrotainModule.RepetitionMandatoryWithSeparator;
export type RepetitionWithSeparator = ChevrotainModule.RepetitionWithSeparator;
export type Rule = ChevrotainModule.Rule;
export type Terminal = ChevrotainModule.Terminal;
