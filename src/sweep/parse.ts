/**
 * The sweep language: a `.sweep` file, and the same pieces on the command line.
 *
 *   # comments run to the end of the line
 *   plan "quickstart.mono"            # relative to this file's folder
 *   seeds 1, 2, 3                     # mono run --seed, one trial per seed and configuration
 *   set phase_epochs = 2              # a fixed value (mono run --set)
 *   grid lr0 = 0.01, 0.05, 0.1        # one configuration per value; several grids: their product
 *   random width = int(1, 4)          # uniform(a, b), log(a, b), int(a, b), choice(v, ...)
 *   trials 10                         # random draws (per grid point)
 *   sample_seed 7                     # seed of the random draws (default 1)
 *   backend wasm                      # mono run --backend
 *   arm adam {                        # several plans in one sweep, each with its own grid
 *     plan "mnist-adam.mono"
 *     grid lr = 0.003, 0.01, 0.03
 *   }
 *
 * Statements end at the end of a line (or `;`); a list may continue on the next line
 * after a comma. Top-level set/grid/random/trials/plan are inherited by every arm; an
 * arm's own entry for a param replaces the inherited one.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { didYouMean } from '../diagnostics/suggest.js';
import type { SourceRange } from '../syntax/location.js';
import { tokenize, type Token } from './lexer.js';
import {
  DISTRIBUTIONS,
  sweepError,
  type ArmSpec,
  type Distribution,
  type FixedEntry,
  type GridEntry,
  type Located,
  type ParsedSpec,
  type RandomEntry,
  type SweepSpec,
  type SweepValue,
} from './spec.js';

const TOP_KEYWORDS = ['plan', 'seeds', 'set', 'grid', 'random', 'trials', 'sample_seed', 'backend', 'arm'] as const;
const ARM_KEYWORDS = ['plan', 'set', 'grid', 'random', 'trials'] as const;

function spanOf(first: SourceRange, last: SourceRange): SourceRange {
  return { start: first.start, end: last.end };
}

/** One scope's statements (the top level or an arm) before inheritance. */
interface Scope {
  plan: Located<string> | null;
  fixed: FixedEntry[];
  grid: GridEntry[];
  random: RandomEntry[];
  trials: Located<number> | null;
}

const emptyScope = (): Scope => ({ plan: null, fixed: [], grid: [], random: [], trials: null });

class Parser {
  private index = 0;
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    private readonly tokens: Token[],
    readonly file: string,
  ) {}

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)]!;
  }

  next(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.index++;
    return token;
  }

  isPunct(text: string, token = this.peek()): boolean {
    return token.kind === 'punct' && token.text === text;
  }

  error(range: SourceRange, code: string, message: string, hint?: string): undefined {
    this.diagnostics.push(sweepError(this.file, range, code, message, hint));
    return undefined;
  }

  describe(token: Token): string {
    if (token.kind === 'eof') return 'the end of the text';
    if (token.kind === 'newline') return 'the end of the line';
    return `'${token.text}'`;
  }

  expectPunct(text: string, what: string): Token | undefined {
    const token = this.peek();
    if (this.isPunct(text)) return this.next();
    return this.error(token.range, 'syntax-error', `expected '${text}' ${what}, found ${this.describe(token)}`);
  }

  skipNewlines(): void {
    while (this.peek().kind === 'newline' || this.isPunct(';')) this.next();
  }

  /** Skips to the end of the statement after an error. */
  recover(): void {
    while (this.peek().kind !== 'newline' && this.peek().kind !== 'eof' && !this.isPunct('}') && !this.isPunct(';')) this.next();
  }

  /** A statement ends at a newline, `;`, a closing brace, or the end. */
  endStatement(): void {
    const token = this.peek();
    if (token.kind === 'newline' || token.kind === 'eof' || this.isPunct(';') || this.isPunct('}')) return;
    this.error(token.range, 'syntax-error', `expected the end of the statement, found ${this.describe(token)}`);
    this.recover();
  }

  name(what: string): Located<string> | undefined {
    const token = this.peek();
    if (token.kind !== 'ident') return this.error(token.range, 'syntax-error', `expected ${what}, found ${this.describe(token)}`);
    this.next();
    return { value: token.text, file: this.file, range: token.range };
  }

  /** A number, a "string", true or false. */
  value(): SweepValue | undefined {
    const token = this.peek();
    const base = { file: this.file, range: token.range, text: token.text };
    if (token.kind === 'number') {
      this.next();
      return { ...base, kind: 'number', number: Number(token.text) };
    }
    if (token.kind === 'string') {
      this.next();
      return { ...base, kind: 'string', number: null };
    }
    if (token.kind === 'ident' && (token.text === 'true' || token.text === 'false')) {
      this.next();
      return { ...base, kind: 'boolean', number: null };
    }
    return this.error(token.range, 'syntax-error', `expected a value (a number, a "string", true or false), found ${this.describe(token)}`);
  }

  /** `V1, V2, ...`; a newline may follow a comma. */
  valueList(): SweepValue[] | undefined {
    const values: SweepValue[] = [];
    for (;;) {
      const value = this.value();
      if (value === undefined) return undefined;
      values.push(value);
      if (!this.isPunct(',')) return values;
      this.next();
      while (this.peek().kind === 'newline') this.next();
    }
  }

  integer(what: string, min: number): Located<number> | undefined {
    const token = this.peek();
    const value = token.kind === 'number' ? Number(token.text) : NaN;
    if (!Number.isInteger(value) || value < min) return this.error(token.range, token.kind === 'number' ? 'value-out-of-range' : 'syntax-error', `${what} expects a whole number >= ${min}, found ${this.describe(token)}`);
    this.next();
    return { value, file: this.file, range: token.range };
  }

  integerList(what: string, min: number): Located<number>[] | undefined {
    const values: Located<number>[] = [];
    for (;;) {
      const value = this.integer(what, min);
      if (value === undefined) return undefined;
      values.push(value);
      if (!this.isPunct(',')) return values;
      this.next();
      while (this.peek().kind === 'newline') this.next();
    }
  }

  /** `uniform(a, b)`, `log(a, b)`, `int(a, b)`, `choice(v, ...)`. */
  distribution(): { distribution: Distribution; range: SourceRange } | undefined {
    const head = this.peek();
    if (head.kind !== 'ident' || !(DISTRIBUTIONS as readonly string[]).includes(head.text)) {
      const hint = head.kind === 'ident' ? didYouMean(head.text, DISTRIBUTIONS) : undefined;
      return this.error(head.range, 'unknown-distribution', `expected a distribution: ${DISTRIBUTIONS.map((d) => `${d}(...)`).join(', ')}; found ${this.describe(head)}`, hint);
    }
    this.next();
    if (!this.expectPunct('(', `after '${head.text}'`)) return undefined;
    const values = this.valueList();
    if (values === undefined) return undefined;
    const close = this.expectPunct(')', `to close '${head.text}('`);
    if (!close) return undefined;
    const range = spanOf(head.range, close.range);
    const kind = head.text as Distribution['kind'];
    if (kind === 'choice') return { distribution: { kind, values }, range };
    if (values.length !== 2) return this.error(range, 'invalid-distribution', `${kind}(low, high) takes two numbers, got ${values.length}`);
    const [low, high] = values as [SweepValue, SweepValue];
    for (const bound of [low, high]) {
      if (bound.kind !== 'number') return this.error(bound.range, 'invalid-distribution', `${kind}(low, high) takes numbers, got ${bound.text}`);
    }
    const a = low.number!;
    const b = high.number!;
    if (kind === 'int' && (!Number.isInteger(a) || !Number.isInteger(b))) return this.error(range, 'invalid-distribution', `int(low, high) takes whole numbers, got ${low.text} and ${high.text}`);
    if (kind === 'log' && a <= 0) return this.error(low.range, 'invalid-distribution', `log(low, high) draws on a log scale: low must be > 0, got ${low.text}`);
    if (kind === 'int' ? a > b : a >= b) return this.error(range, 'invalid-distribution', `${kind}(low, high) needs low ${kind === 'int' ? '<=' : '<'} high, got ${low.text} and ${high.text}`, 'swap the bounds');
    return { distribution: { kind, low, high }, range };
  }

  /** `NAME = VALUE`. */
  fixedEntry(): FixedEntry | undefined {
    const name = this.name('a param name');
    if (!name || !this.expectPunct('=', `after the param name '${name.value}'`)) return undefined;
    const value = this.value();
    return value ? { name, value } : undefined;
  }

  /** `NAME = V1, V2, ...`. */
  gridEntry(): GridEntry | undefined {
    const name = this.name('a param name');
    if (!name || !this.expectPunct('=', `after the param name '${name.value}'`)) return undefined;
    const values = this.valueList();
    if (!values) return undefined;
    const seen = new Set<string>();
    for (const value of values) {
      if (seen.has(value.text)) this.error(value.range, 'duplicate-value', `grid ${name.value}: ${value.text} is listed twice`);
      seen.add(value.text);
    }
    return { name, values };
  }

  /** `NAME = DISTRIBUTION`. */
  randomEntry(): RandomEntry | undefined {
    const name = this.name('a param name');
    if (!name || !this.expectPunct('=', `after the param name '${name.value}'`)) return undefined;
    const parsed = this.distribution();
    return parsed ? { name, distribution: parsed.distribution, file: this.file, range: parsed.range } : undefined;
  }

  /** The rest of the text must be empty (one command-line value). */
  end(): void {
    const token = this.peek();
    if (token.kind !== 'eof') this.error(token.range, 'syntax-error', `unexpected ${this.describe(token)}`);
  }
}

/** The param names a scope already varies or fixes; a second entry for one is an error. */
function addParam(scope: Scope, name: Located<string>, parser: Parser): boolean {
  const entries = [...scope.fixed.map((e) => e.name), ...scope.grid.map((e) => e.name), ...scope.random.map((e) => e.name)];
  const earlier = entries.find((e) => e.value === name.value);
  if (earlier) {
    parser.error(name.range, 'duplicate-param', `param '${name.value}' is already given at line ${earlier.range.start.line} (use one of set, grid, random per param)`);
    return false;
  }
  return true;
}

interface TopLevel extends Scope {
  seeds: Located<number>[] | null;
  sampleSeed: Located<number> | null;
  backend: Located<string> | null;
  arms: { name: Located<string>; scope: Scope }[];
}

function statement(parser: Parser, keyword: Token, scope: Scope, top: TopLevel | null): void {
  const once = <T>(current: T | null, what: string): boolean => {
    if (current === null) return true;
    parser.error(keyword.range, 'duplicate-statement', `'${what}' is given twice here`);
    return false;
  };
  switch (keyword.text) {
    case 'plan': {
      const token = parser.peek();
      if (token.kind !== 'string') {
        parser.error(token.range, 'syntax-error', `plan expects the plan's path as a "string", found ${parser.describe(token)}`);
        return parser.recover();
      }
      parser.next();
      if (once(scope.plan, 'plan')) scope.plan = { value: JSON.parse(token.text) as string, file: parser.file, range: token.range };
      return parser.endStatement();
    }
    case 'set': {
      const entry = parser.fixedEntry();
      if (!entry) return parser.recover();
      if (addParam(scope, entry.name, parser)) scope.fixed.push(entry);
      return parser.endStatement();
    }
    case 'grid': {
      const entry = parser.gridEntry();
      if (!entry) return parser.recover();
      if (addParam(scope, entry.name, parser)) scope.grid.push(entry);
      return parser.endStatement();
    }
    case 'random': {
      const entry = parser.randomEntry();
      if (!entry) return parser.recover();
      if (addParam(scope, entry.name, parser)) scope.random.push(entry);
      return parser.endStatement();
    }
    case 'trials': {
      const value = parser.integer('trials', 1);
      if (!value) return parser.recover();
      if (once(scope.trials, 'trials')) scope.trials = value;
      return parser.endStatement();
    }
  }
  // Top level only.
  if (!top) return;
  switch (keyword.text) {
    case 'seeds': {
      const values = parser.integerList('seeds', 0);
      if (!values) return parser.recover();
      const seen = new Set<number>();
      for (const seed of values) {
        if (seen.has(seed.value)) parser.error(seed.range, 'duplicate-value', `seed ${seed.value} is listed twice`);
        seen.add(seed.value);
      }
      if (once(top.seeds, 'seeds')) top.seeds = values;
      return parser.endStatement();
    }
    case 'sample_seed': {
      const value = parser.integer('sample_seed', 0);
      if (!value) return parser.recover();
      if (once(top.sampleSeed, 'sample_seed')) top.sampleSeed = value;
      return parser.endStatement();
    }
    case 'backend': {
      const name = parser.name('a backend name');
      if (!name) return parser.recover();
      if (once(top.backend, 'backend')) top.backend = name;
      return parser.endStatement();
    }
    case 'arm': {
      const name = parser.name('the arm\'s name');
      if (!name || !parser.expectPunct('{', `after 'arm ${name.value}'`)) return parser.recover();
      if (top.arms.some((arm) => arm.name.value === name.value)) parser.error(name.range, 'duplicate-arm', `arm '${name.value}' is defined twice`);
      const scope = emptyScope();
      for (;;) {
        parser.skipNewlines();
        const token = parser.peek();
        if (parser.isPunct('}')) {
          parser.next();
          break;
        }
        if (token.kind === 'eof') {
          parser.error(token.range, 'syntax-error', `expected '}' to close 'arm ${name.value} {'`);
          break;
        }
        parser.next();
        if (token.kind !== 'ident' || !(ARM_KEYWORDS as readonly string[]).includes(token.text)) {
          const nested = (TOP_KEYWORDS as readonly string[]).includes(token.text);
          parser.error(
            token.range,
            nested ? 'misplaced-statement' : 'unknown-statement',
            nested ? `'${token.text}' belongs at the top level, not inside an arm` : `expected one of ${ARM_KEYWORDS.join(', ')} inside an arm, found ${parser.describe(token)}`,
            token.kind === 'ident' && !nested ? didYouMean(token.text, ARM_KEYWORDS) : undefined,
          );
          parser.recover();
          continue;
        }
        statement(parser, token, scope, null);
      }
      top.arms.push({ name, scope });
      return parser.endStatement();
    }
  }
}

/** A `.sweep` file. `baseDir` is where its relative plan paths start (its own folder). */
export function parseSweepFile(text: string, file: string, baseDir: string): ParsedSpec {
  const { tokens, diagnostics } = tokenize(text, file);
  const parser = new Parser(tokens, file);
  const top: TopLevel = { ...emptyScope(), seeds: null, sampleSeed: null, backend: null, arms: [] };
  for (;;) {
    parser.skipNewlines();
    const token = parser.peek();
    if (token.kind === 'eof') break;
    parser.next();
    if (token.kind !== 'ident' || !(TOP_KEYWORDS as readonly string[]).includes(token.text)) {
      parser.error(token.range, 'unknown-statement', `expected one of ${TOP_KEYWORDS.join(', ')}, found ${parser.describe(token)}`, token.kind === 'ident' ? didYouMean(token.text, TOP_KEYWORDS) : undefined);
      parser.recover();
      continue;
    }
    statement(parser, token, top, top);
  }
  const all = [...diagnostics, ...parser.diagnostics];
  const sources = new Map([[file, text]]);
  const start = { offset: 0, line: 1, column: 1 };
  const whole: SourceRange = { start, end: start };
  const arms = top.arms.length > 0 ? top.arms.map((arm) => inherit(top, arm.scope, arm.name)) : [inherit(top, emptyScope(), null)];
  for (const arm of arms) {
    if (arm.plan === null) {
      all.push(sweepError(file, arm.name.range === whole ? whole : arm.name.range, 'missing-plan', top.arms.length > 0 ? `arm '${arm.name.value}' names no plan` : 'the sweep names no plan', 'add a line such as: plan "quickstart.mono"'));
    }
  }
  const spec: SweepSpec = {
    baseDir,
    arms,
    seeds: top.seeds,
    sampleSeed: top.sampleSeed?.value ?? 1,
    backend: top.backend,
  };
  return { spec: all.some((d) => d.severity === 'error') ? null : spec, diagnostics: all, sources };

  function inherit(outer: Scope, inner: Scope, name: Located<string> | null): ArmSpec {
    const own = new Set([...inner.fixed, ...inner.grid, ...inner.random].map((e) => e.name.value));
    const keep = <E extends { name: Located<string> }>(entries: E[]) => entries.filter((e) => !own.has(e.name.value));
    const plan = inner.plan ?? outer.plan;
    return {
      name: name ?? { value: plan ? armNameOf(plan.value) : 'plan', file, range: plan?.range ?? whole },
      plan,
      fixed: [...keep(outer.fixed), ...inner.fixed],
      grid: [...keep(outer.grid), ...inner.grid],
      random: [...keep(outer.random), ...inner.random],
      trials: inner.trials ?? outer.trials,
    };
  }
}

/** The arm of a sweep without arms is named after its plan file (`plans/quickstart.mono` -> `quickstart`). */
export function armNameOf(planPath: string): string {
  const base = planPath.split(/[\\/]/).pop() ?? planPath;
  return base.replace(/\.mono$/, '').replace(/[^A-Za-z0-9_-]/g, '_') || 'plan';
}

/**
 * The command line's sweep: PLAN plus --grid/--random/--set/--seeds/--trials. Each option's
 * arguments form a virtual file named after the option (`--grid`), one argument per line,
 * so `--grid:2:5` points into the second --grid argument.
 */
export function parseSweepArgs(options: {
  plan: string;
  planArgRange?: SourceRange;
  grid?: readonly string[];
  random?: readonly string[];
  set?: readonly string[];
  seeds?: string;
  trials?: string;
  sampleSeed?: string;
  backend?: string;
  baseDir: string;
}): ParsedSpec {
  const diagnostics: Diagnostic[] = [];
  const sources = new Map<string, string>();
  const scope = emptyScope();
  const each = <T>(option: string, args: readonly string[] | undefined, parse: (parser: Parser) => T | undefined): T[] => {
    if (!args || args.length === 0) return [];
    sources.set(option, args.join('\n'));
    const results: T[] = [];
    let offset = 0;
    args.forEach((arg, index) => {
      const { tokens, diagnostics: lexical } = tokenize(arg, option, { offset, line: index + 1, column: 1 });
      offset += arg.length + 1;
      diagnostics.push(...lexical);
      const parser = new Parser(tokens.filter((t) => t.kind !== 'newline'), option);
      const result = lexical.length === 0 ? parse(parser) : undefined;
      if (result !== undefined) parser.end();
      diagnostics.push(...parser.diagnostics);
      if (result !== undefined && parser.diagnostics.length === 0) results.push(result);
    });
    return results;
  };
  const checkedAdd = <E extends { name: Located<string> }>(entries: E[], list: E[], option: string) => {
    for (const entry of entries) {
      const parser = new Parser([], option);
      if (addParam(scope, entry.name, parser)) list.push(entry);
      diagnostics.push(...parser.diagnostics);
    }
  };
  checkedAdd(each('--set', options.set, (p) => p.fixedEntry()), scope.fixed, '--set');
  checkedAdd(each('--grid', options.grid, (p) => p.gridEntry()), scope.grid, '--grid');
  checkedAdd(each('--random', options.random, (p) => p.randomEntry()), scope.random, '--random');
  const seeds = each('--seeds', options.seeds !== undefined ? [options.seeds] : undefined, (p) => {
    const values = p.integerList('--seeds', 0);
    const seen = new Set<number>();
    for (const seed of values ?? []) {
      if (seen.has(seed.value)) p.error(seed.range, 'duplicate-value', `seed ${seed.value} is listed twice`);
      seen.add(seed.value);
    }
    return values;
  })[0];
  const trials = each('--trials', options.trials !== undefined ? [options.trials] : undefined, (p) => p.integer('--trials', 1))[0];
  const sampleSeed = each('--sample-seed', options.sampleSeed !== undefined ? [options.sampleSeed] : undefined, (p) => p.integer('--sample-seed', 0))[0];
  const range = options.planArgRange ?? { start: { offset: 0, line: 1, column: 1 }, end: { offset: options.plan.length, line: 1, column: options.plan.length + 1 } };
  const plan: Located<string> = { value: options.plan, file: 'PLAN', range };
  sources.set('PLAN', options.plan);
  const spec: SweepSpec = {
    baseDir: options.baseDir,
    arms: [{ name: { ...plan, value: armNameOf(options.plan) }, plan, fixed: scope.fixed, grid: scope.grid, random: scope.random, trials: trials ?? null }],
    seeds: seeds ?? null,
    sampleSeed: sampleSeed?.value ?? 1,
    backend: options.backend !== undefined ? { value: options.backend, file: '--backend', range } : null,
  };
  return { spec: diagnostics.some((d) => d.severity === 'error') ? null : spec, diagnostics, sources };
}
