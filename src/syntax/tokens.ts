/**
 * The tokens of the .mono language. Keywords are matched as identifiers first
 * (`longer_alt`) so that `trainer` or `epochs2` stay identifiers. Comments are
 * kept in a token group so the printer can put them back.
 */
import { createToken, Lexer, type TokenType } from './chevrotain.js';

/**
 * What may name an argument: any name, keywords included, so that
 * `warmup(epochs: 1)` reads as the schedule catalogue spells it.
 */
export const ArgumentName = createToken({ name: 'ArgumentName', pattern: Lexer.NA, label: 'a name' });

export const Identifier = createToken({
  name: 'Identifier',
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  label: 'a name',
  categories: [ArgumentName],
});

function keyword(word: string): TokenType {
  return createToken({
    name: word[0]!.toUpperCase() + word.slice(1),
    pattern: new RegExp(word),
    longer_alt: Identifier,
    label: `'${word}'`,
    categories: [ArgumentName],
  });
}

export const Plan = keyword('plan');
export const Param = keyword('param');
export const Data = keyword('data');
export const Block = keyword('block');
export const Head = keyword('head');
export const Network = keyword('network');
export const Input = keyword('input');
export const Partition = keyword('partition');
export const Proxy = keyword('proxy');
export const Schedule = keyword('schedule');
export const Train = keyword('train');
export const Finetune = keyword('finetune');
export const For = keyword('for');
// `epochs` before `epoch`: both are keywords, and the longer must win.
export const Epochs = keyword('epochs');
export const Epoch = keyword('epoch');
export const With = keyword('with');
export const Repeat = keyword('repeat');
export const Shared = keyword('shared');
export const Residual = keyword('residual');
export const True = keyword('true');
export const False = keyword('false');

export const KEYWORD_TOKENS: readonly TokenType[] = [
  Plan, Param, Data, Block, Head, Network, Input, Partition, Proxy, Schedule, Train, Finetune,
  For, Epochs, Epoch, With, Repeat, Shared, Residual, True, False,
];

/** The reserved words, which cannot name anything. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'plan', 'param', 'data', 'block', 'head', 'network', 'input', 'partition', 'proxy', 'schedule',
  'train', 'finetune', 'for', 'epoch', 'epochs', 'with', 'repeat', 'shared', 'residual', 'true', 'false',
]);

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v\uFEFF]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: 'Comment', pattern: /(?:#|\/\/)[^\r\n]*/, group: 'comments' });

const NUMBER = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.source;
export const PercentLiteral = createToken({ name: 'PercentLiteral', pattern: new RegExp(`${NUMBER}%`), label: 'a percentage' });
export const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: new RegExp(NUMBER), label: 'a number' });
// Any backslash escape lexes; the AST builder reports the ones the language lacks.
export const StringLiteral = createToken({ name: 'StringLiteral', pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*"/, label: 'a string' });

export const DotDot = createToken({ name: 'DotDot', pattern: /\.\./, label: "'..'" });
export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: 'RBracket', pattern: /]/, label: "']'" });
export const LCurly = createToken({ name: 'LCurly', pattern: /\{/, label: "'{'" });
export const RCurly = createToken({ name: 'RCurly', pattern: /}/, label: "'}'" });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
export const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" });
export const Equals = createToken({ name: 'Equals', pattern: /=/, label: "'='" });
export const Plus = createToken({ name: 'Plus', pattern: /\+/, label: "'+'" });
export const Minus = createToken({ name: 'Minus', pattern: /-/, label: "'-'" });
export const Star = createToken({ name: 'Star', pattern: /\*/, label: "'*'" });
// After Comment, so that `//` starts a comment rather than two divisions.
export const Slash = createToken({ name: 'Slash', pattern: /\//, label: "'/'" });

/** Lexing order matters: comments before `/`, percentages before numbers, keywords before names. */
export const ALL_TOKENS: readonly TokenType[] = [
  WhiteSpace,
  Comment,
  PercentLiteral,
  NumberLiteral,
  StringLiteral,
  DotDot,
  LParen, RParen, LBracket, RBracket, LCurly, RCurly,
  Comma, Colon, Equals, Plus, Minus, Star, Slash,
  ...KEYWORD_TOKENS,
  Identifier,
  ArgumentName,
];

export const monoLexer = new Lexer([...ALL_TOKENS], { positionTracking: 'full', ensureOptimizations: false });
