/**
 * The .mono grammar as a Chevrotain CstParser. One instance serves every parse
 * (building a parser is costly); recovery is on so that a file's syntax errors
 * are all reported in one pass.
 */
import { CstParser, EOF, type IOrAlt, type IParserErrorMessageProvider, type IToken, type TokenType } from './chevrotain.js';
import * as T from './tokens.js';

function describeToken(token: IToken): string {
  return token.tokenType === EOF ? 'end of file' : `'${token.image}'`;
}

function label(tokenType: TokenType): string {
  return tokenType === EOF ? 'end of file' : (tokenType.LABEL ?? tokenType.name);
}

/** Lists the tokens that could start each alternative: "a name, a number or '('". */
function describeAlternatives(paths: TokenType[][][]): string {
  const firsts = new Set<string>();
  for (const alternative of paths) {
    for (const path of alternative) {
      const first = path[0];
      if (first !== undefined) firsts.add(label(first));
    }
  }
  const list = [...firsts];
  if (list.length <= 1) return list[0] ?? 'something else';
  return `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
}

const DECLARATION = 'a declaration (param, data, block, head, network, partition or schedule)';

/**
 * How deep a plan may nest (docs/language.md, "Nesting limit"). One level each: a pair
 * of parentheses (grouping, argument or parameter list), a list `[...]`, a body `{...}`
 * of a block, head, residual, repeat, data or phase, a `repeat`, a unary minus, and
 * (counted by build-ast.ts) each binary operator over its operands. Every recursion of
 * the parser, of the AST builder and of the later stages goes through these, so a
 * plan within the limit cannot exhaust the stack (Node's overflows near 300 parentheses
 * in this parser).
 */
export const MAX_NESTING = 64;

/** Thrown out of the parse when the nesting passes MAX_NESTING at `token`. */
export class NestingTooDeep extends Error {
  constructor(readonly token: IToken) {
    super(`nesting deeper than ${MAX_NESTING} levels`);
    this.name = 'NestingTooDeep';
  }
}

const RULE_DESCRIPTIONS: Record<string, string> = {
  declaration: DECLARATION,
  layerItem: 'a layer, repeat or residual',
  setting: 'an expression',
  unary: 'an expression',
  primary: 'an expression',
  phase: "'train' or 'finetune'",
};

export const messages: IParserErrorMessageProvider = {
  // Only the top rule expects the end of file, after its declarations.
  buildMismatchTokenMessage: ({ expected, actual }) =>
    `expected ${expected === EOF ? DECLARATION : label(expected)} but found ${describeToken(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `expected ${DECLARATION} but found ${describeToken(firstRedundant)}`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) => {
    const found = actual[0];
    const expected = RULE_DESCRIPTIONS[ruleName] ?? describeAlternatives(expectedPathsPerAlt);
    return `expected ${expected} but found ${found === undefined ? 'end of file' : describeToken(found)}`;
  },
  buildEarlyExitMessage: ({ expectedIterationPaths, actual, ruleName }) => {
    const found = actual[0];
    const expected = RULE_DESCRIPTIONS[ruleName] ?? describeAlternatives([expectedIterationPaths]);
    return `expected ${expected} but found ${found === undefined ? 'end of file' : describeToken(found)}`;
  },
};

/**
 * Alternatives and repetition settings are fields, built once per parser, not
 * literals inside the rules: a literal would allocate an array and closures on
 * every invocation of its rule, the bulk of the parser's garbage on a large plan.
 * The closures read `this.<rule>` only when called, so field order does not matter.
 */
export class MonoParser extends CstParser {
  /** Levels of nesting around the current token (see MAX_NESTING). */
  private depth = 0;

  constructor() {
    super([...T.ALL_TOKENS], { recoveryEnabled: true, nodeLocationTracking: 'none', errorMessageProvider: messages, maxLookahead: 3 });
    this.performSelfAnalysis();
  }

  /** A new input (parse.ts sets one per file) starts at depth 0, also after an aborted parse. */
  override reset(): void {
    super.reset();
    this.depth = 0;
  }

  /**
   * `body` one level deeper. It throws NestingTooDeep before recursing past the limit,
   * at the token that opens the level; the `finally` keeps the count right when
   * recovery unwinds the rule. ACTION makes both no-ops while the grammar is recorded.
   */
  private nested(body: () => void): () => void {
    return () => {
      this.ACTION(() => {
        this.depth++;
        if (this.depth > MAX_NESTING) throw new NestingTooDeep(this.LA(1));
      });
      try {
        body();
      } finally {
        this.ACTION(() => {
          this.depth--;
        });
      }
    };
  }

  /** plan NAME declaration* */
  public readonly plan = this.RULE('plan', () => {
    this.CONSUME(T.Plan);
    this.CONSUME(T.Identifier);
    this.MANY(() => this.SUBRULE(this.declaration));
  });

  private readonly declarationAlternatives: IOrAlt<unknown>[] = [
    { ALT: () => this.SUBRULE(this.paramDeclaration) },
    { ALT: () => this.SUBRULE(this.dataDeclaration) },
    { ALT: () => this.SUBRULE(this.blockDeclaration) },
    { ALT: () => this.SUBRULE(this.headDeclaration) },
    { ALT: () => this.SUBRULE(this.networkDeclaration) },
    { ALT: () => this.SUBRULE(this.partitionDeclaration) },
    { ALT: () => this.SUBRULE(this.scheduleDeclaration) },
  ];

  private readonly declaration = this.RULE('declaration', () => {
    this.OR(this.declarationAlternatives);
  });

  private readonly paramDeclaration = this.RULE('paramDeclaration', () => {
    this.CONSUME(T.Param);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  private readonly dataDeclaration = this.RULE('dataDeclaration', () => {
    this.CONSUME(T.Data);
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.argumentList));
    // Optional, as after a phase: `data mnist` alone takes every default.
    this.OPTION2(() => this.SUBRULE(this.settingsBody));
  });

  private readonly settingsBody = this.RULE('settingsBody', this.nested(() => {
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.setting));
    this.CONSUME(T.RCurly);
  }));

  /** NAME value ("," value)* */
  private readonly settingValues = { SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) };

  private readonly setting = this.RULE('setting', () => {
    this.CONSUME(T.Identifier);
    this.AT_LEAST_ONE_SEP(this.settingValues);
  });

  private readonly blockDeclaration = this.RULE('blockDeclaration', () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.parameterList));
    this.SUBRULE(this.layerBody);
  });

  private readonly headDeclaration = this.RULE('headDeclaration', () => {
    this.CONSUME(T.Head);
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.parameterList));
    this.SUBRULE(this.layerBody);
  });

  private readonly parameters = { SEP: T.Comma, DEF: () => this.SUBRULE(this.parameter) };

  private readonly parameterList = this.RULE('parameterList', this.nested(() => {
    this.CONSUME(T.LParen);
    this.MANY_SEP(this.parameters);
    this.CONSUME(T.RParen);
  }));

  /** NAME ["=" default] */
  private readonly parameter = this.RULE('parameter', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expression);
    });
  });

  private readonly networkDeclaration = this.RULE('networkDeclaration', () => {
    this.CONSUME(T.Network);
    this.CONSUME(T.Input);
    this.SUBRULE(this.expression);
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.section));
    this.CONSUME(T.RCurly);
  });

  /** NAME ":" item*, ending where the next `NAME :` starts. */
  private readonly sectionItems = {
    GATE: () => !(this.LA(1).tokenType === T.Identifier && this.LA(2).tokenType === T.Colon),
    DEF: () => this.SUBRULE(this.layerItem),
  };

  private readonly section = this.RULE('section', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.MANY(this.sectionItems);
  });

  private readonly partitionDeclaration = this.RULE('partitionDeclaration', () => {
    this.CONSUME(T.Partition);
    this.CONSUME1(T.Identifier);
    this.CONSUME(T.Equals);
    this.CONSUME2(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.DotDot);
      this.CONSUME3(T.Identifier);
    });
    this.OPTION2(() => {
      this.CONSUME(T.Proxy);
      this.SUBRULE(this.layerCall);
    });
  });

  /** schedule { setting* phase* }: plan-wide settings (`best val_loss`) come before the phases. */
  private readonly scheduleDeclaration = this.RULE('scheduleDeclaration', () => {
    this.CONSUME(T.Schedule);
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.setting));
    this.MANY2(() => this.SUBRULE(this.phase));
    this.CONSUME(T.RCurly);
  });

  private readonly phaseModes: IOrAlt<unknown>[] = [{ ALT: () => this.CONSUME(T.Train) }, { ALT: () => this.CONSUME(T.Finetune) }];
  private readonly epochWords: IOrAlt<unknown>[] = [{ ALT: () => this.CONSUME(T.Epochs) }, { ALT: () => this.CONSUME(T.Epoch) }];

  /** (train NAME | finetune NAME) for EXPR (epoch | epochs) with NAME[(args)] [{ setting* }] */
  private readonly phase = this.RULE('phase', () => {
    this.OR(this.phaseModes);
    this.CONSUME1(T.Identifier);
    this.CONSUME(T.For);
    this.SUBRULE(this.expression);
    this.OR2(this.epochWords);
    this.CONSUME(T.With);
    this.CONSUME2(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.argumentList));
    this.OPTION2(() => this.SUBRULE(this.settingsBody));
  });

  // ------------------------------------------------------------ layer items

  private readonly layerBody = this.RULE('layerBody', this.nested(() => {
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.layerItem));
    this.CONSUME(T.RCurly);
  }));

  private readonly layerItemAlternatives: IOrAlt<unknown>[] = [
    { ALT: () => this.SUBRULE(this.layerCall) },
    { ALT: () => this.SUBRULE(this.repeat) },
    { ALT: () => this.SUBRULE(this.residual) },
  ];

  private readonly layerItem = this.RULE('layerItem', () => {
    this.OR(this.layerItemAlternatives);
  });

  private readonly layerCall = this.RULE('layerCall', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.argumentList));
  });

  private readonly repeatBodies: IOrAlt<unknown>[] = [{ ALT: () => this.SUBRULE(this.layerBody) }, { ALT: () => this.SUBRULE(this.layerItem) }];

  /** repeat EXPR [shared [(args)]] (item | { item* }) */
  private readonly repeat = this.RULE('repeat', this.nested(() => {
    this.CONSUME(T.Repeat);
    this.SUBRULE(this.expression);
    this.OPTION(() => {
      this.CONSUME(T.Shared);
      this.OPTION2(() => this.SUBRULE(this.argumentList));
    });
    this.OR(this.repeatBodies);
  }));

  private readonly residual = this.RULE('residual', () => {
    this.CONSUME(T.Residual);
    this.OPTION(() => this.SUBRULE(this.argumentList));
    this.SUBRULE(this.layerBody);
  });

  // ------------------------------------------------------------ expressions

  private readonly arguments = { SEP: T.Comma, DEF: () => this.SUBRULE(this.argument) };

  private readonly argumentList = this.RULE('argumentList', this.nested(() => {
    this.CONSUME(T.LParen);
    this.MANY_SEP(this.arguments);
    this.CONSUME(T.RParen);
  }));

  /** NAME ":" EXPR | EXPR; a keyword may name an argument (`warmup(epochs: 1)`). */
  private readonly argument = this.RULE('argument', () => {
    this.OPTION(() => {
      this.CONSUME(T.ArgumentName);
      this.CONSUME(T.Colon);
    });
    this.SUBRULE(this.expression);
  });

  private readonly additiveOperators: IOrAlt<unknown>[] = [{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }];
  private readonly multiplicativeOperators: IOrAlt<unknown>[] = [{ ALT: () => this.CONSUME(T.Star) }, { ALT: () => this.CONSUME(T.Slash) }];

  public readonly expression = this.RULE('expression', () => {
    this.SUBRULE(this.product);
    this.MANY(() => {
      this.OR(this.additiveOperators);
      this.SUBRULE2(this.product);
    });
  });

  private readonly product = this.RULE('product', () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.OR(this.multiplicativeOperators);
      this.SUBRULE2(this.unary);
    });
  });

  private readonly unaryAlternatives: IOrAlt<unknown>[] = [
    {
      ALT: this.nested(() => {
        this.CONSUME(T.Minus);
        this.SUBRULE(this.unary);
      }),
    },
    { ALT: () => this.SUBRULE(this.primary) },
  ];

  private readonly unary = this.RULE('unary', () => {
    this.OR(this.unaryAlternatives);
  });

  private readonly primaryAlternatives: IOrAlt<unknown>[] = [
    { ALT: () => this.CONSUME(T.NumberLiteral) },
    { ALT: () => this.CONSUME(T.PercentLiteral) },
    { ALT: () => this.CONSUME(T.StringLiteral) },
    { ALT: () => this.CONSUME(T.True) },
    { ALT: () => this.CONSUME(T.False) },
    { ALT: () => this.SUBRULE(this.list) },
    { ALT: () => this.SUBRULE(this.parenthesized) },
    { ALT: () => this.SUBRULE(this.nameOrCall) },
  ];

  private readonly primary = this.RULE('primary', () => {
    this.OR(this.primaryAlternatives);
  });

  private readonly listItems = { SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) };

  private readonly list = this.RULE('list', this.nested(() => {
    this.CONSUME(T.LBracket);
    this.MANY_SEP(this.listItems);
    this.CONSUME(T.RBracket);
  }));

  private readonly parenthesized = this.RULE('parenthesized', this.nested(() => {
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expression);
    this.CONSUME(T.RParen);
  }));

  private readonly nameOrCall = this.RULE('nameOrCall', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.argumentList));
  });
}

/** The one parser instance; `parse.ts` resets its input for each file. */
export const monoParser = new MonoParser();
