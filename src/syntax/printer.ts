/**
 * Prints an AST as canonical .mono source (what `mono fmt` writes):
 * - 2-space indent, one declaration after another with a blank line between them
 *   (runs of `param` and of `partition` lines stay together), one setting per line;
 * - the layer items of a body share one line when it fits in 100 columns and no
 *   item has a braced body of its own (a single braced item that itself fits is
 *   fine); otherwise one item per line;
 * - minimal parentheses; numbers as String(value); `epoch` only for a literal 1.
 * Comments come back where they were: a comment alone on its line goes before the
 * next printed line, a trailing one at the end of its line. A body that holds a
 * comment is always printed one item per line, so comments inside it keep their place.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type * as Ast from './ast.js';
import { parsePlan } from './parse.js';

const INDENT = '  ';
const MAX_WIDTH = 100;

interface Line {
  text: string;
  indent: number;
  /** Source offset this line stands for, so comments find their place; absent for blank lines. */
  anchor?: number;
  /** Indentation of a comment placed just before this line (deeper before a closing brace). */
  commentIndent: number;
}

export function printPlan(plan: Ast.Plan): string {
  return new PlanPrinter(plan).print();
}

/** Formats source text; `output` is undefined when the text has syntax errors. */
export function formatSource(text: string, file: string): { output?: string; diagnostics: Diagnostic[] } {
  const { plan, diagnostics } = parsePlan(text, file);
  if (plan === undefined || diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  return { output: printPlan(plan), diagnostics };
}

// ---------------------------------------------------------------- expressions

function precedence(expression: Ast.Expression): number {
  switch (expression.kind) {
    case 'Binary':
      return expression.op === '+' || expression.op === '-' ? 1 : 2;
    case 'Unary':
      return 3;
    default:
      return 4;
  }
}

function parenthesize(expression: Ast.Expression, needed: boolean): string {
  const text = printExpression(expression);
  return needed ? `(${text})` : text;
}

export function printExpression(expression: Ast.Expression): string {
  switch (expression.kind) {
    case 'Number':
      return String(expression.value);
    case 'Percent':
      return `${String(expression.value)}%`;
    case 'String':
      return `"${expression.value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    case 'Boolean':
      return String(expression.value);
    case 'Ref':
      return expression.name;
    case 'List':
      return `[${expression.items.map(printExpression).join(', ')}]`;
    case 'Call':
      return `${expression.callee.name}(${printArguments(expression.args)})`;
    case 'Binary': {
      const own = precedence(expression);
      // Left associative: a right operand of equal precedence keeps its parentheses.
      const left = parenthesize(expression.left, precedence(expression.left) < own);
      const right = parenthesize(expression.right, precedence(expression.right) <= own);
      return `${left} ${expression.op} ${right}`;
    }
    case 'Unary':
      return `-${parenthesize(expression.operand, precedence(expression.operand) < 3)}`;
  }
}

export function printArguments(args: readonly Ast.Argument[]): string {
  return args.map((arg) => (arg.name === undefined ? printExpression(arg.value) : `${arg.name.name}: ${printExpression(arg.value)}`)).join(', ');
}

function optionalArguments(args: readonly Ast.Argument[]): string {
  return args.length === 0 ? '' : `(${printArguments(args)})`;
}

function printParameters(params: readonly Ast.ParameterDefinition[]): string {
  if (params.length === 0) return '';
  const list = params.map((p) => (p.default === undefined ? p.name.name : `${p.name.name} = ${printExpression(p.default)}`));
  return `(${list.join(', ')})`;
}

function printSetting(setting: Ast.Setting): string {
  return `${setting.name.name} ${setting.values.map(printExpression).join(', ')}`;
}

// ---------------------------------------------------------------- layer items

function repeatHeader(repeat: Ast.Repeat): string {
  const shared = repeat.shared === undefined ? '' : ` shared${optionalArguments(repeat.shared.args)}`;
  return `repeat ${printExpression(repeat.count)}${shared}`;
}

/** A repeat of exactly one item is written without braces: `repeat 4 basic(64)`. */
function isBracelessRepeat(repeat: Ast.Repeat): boolean {
  return repeat.body.length === 1;
}

function hasBraces(item: Ast.LayerItem): boolean {
  switch (item.kind) {
    case 'LayerCall':
      return false;
    case 'Residual':
      return true;
    case 'Repeat':
      return !isBracelessRepeat(item) || hasBraces(item.body[0]!);
  }
}

function inlineItem(item: Ast.LayerItem): string {
  switch (item.kind) {
    case 'LayerCall':
      return `${item.callee.name}${optionalArguments(item.args)}`;
    case 'Repeat':
      return isBracelessRepeat(item) ? `${repeatHeader(item)} ${inlineItem(item.body[0]!)}` : `${repeatHeader(item)} ${inlineBody(item.body)}`;
    case 'Residual':
      return `residual${optionalArguments(item.args)} ${inlineBody(item.body)}`;
  }
}

function inlineBody(items: readonly Ast.LayerItem[]): string {
  return items.length === 0 ? '{}' : `{ ${items.map(inlineItem).join(' ')} }`;
}

// ---------------------------------------------------------------- the plan

class PlanPrinter {
  private readonly lines: Line[] = [];
  private readonly commentOffsets: number[];

  constructor(private readonly plan: Ast.Plan) {
    this.commentOffsets = plan.comments.map((c) => c.loc.start.offset).sort((a, b) => a - b);
  }

  print(): string {
    const plan = this.plan;
    this.line(`plan ${plan.name.name}`, 0, plan.loc.start.offset);
    let previous: Ast.Declaration | undefined;
    for (const declaration of plan.declarations) {
      const grouped = previous !== undefined && previous.kind === declaration.kind && (declaration.kind === 'Param' || declaration.kind === 'Partition');
      if (!grouped) this.blank();
      this.declaration(declaration);
      previous = declaration;
    }
    return renderWithComments(this.lines, plan.comments, trailingCommentTest(plan));
  }

  private line(text: string, indent: number, anchor: number, commentIndent = indent): void {
    this.lines.push({ text, indent, anchor, commentIndent });
  }

  private blank(): void {
    this.lines.push({ text: '', indent: 0, commentIndent: 0 });
  }

  /** The closing brace of `node`: comments before it stay inside the braces. */
  private close(node: { loc: Ast.Identifier['loc'] }, indent: number): void {
    this.line('}', indent, Math.max(node.loc.start.offset, node.loc.end.offset - 1), indent + 1);
  }

  private hasCommentInside(node: { loc: Ast.Identifier['loc'] }): boolean {
    const { start, end } = node.loc;
    if (end.offset <= start.offset) return false;
    // First comment at or after start; any before end lies inside.
    let low = 0;
    let high = this.commentOffsets.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.commentOffsets[middle]! < start.offset) low = middle + 1;
      else high = middle;
    }
    const first = this.commentOffsets[low];
    return first !== undefined && first < end.offset;
  }

  private declaration(declaration: Ast.Declaration): void {
    const anchor = declaration.loc.start.offset;
    switch (declaration.kind) {
      case 'Param':
        this.line(`param ${declaration.name.name} = ${printExpression(declaration.value)}`, 0, anchor);
        return;
      case 'Data': {
        const source = declaration.source.kind === 'Ref' ? declaration.source.name : printExpression(declaration.source);
        // Like a phase, a data declaration without settings needs no braces.
        if (declaration.settings.length === 0) this.line(`data ${source}`, 0, anchor);
        else this.settingsBlock(`data ${source}`, declaration.settings, declaration, 0);
        return;
      }
      case 'Block':
      case 'Head': {
        const keyword = declaration.kind === 'Block' ? 'block' : 'head';
        this.body(`${keyword} ${declaration.name.name}${printParameters(declaration.params)}`, declaration.body, 0, declaration, true);
        return;
      }
      case 'Network':
        this.network(declaration);
        return;
      case 'Partition': {
        const range = declaration.to === undefined ? declaration.from.name : `${declaration.from.name} .. ${declaration.to.name}`;
        const proxy = declaration.proxy === undefined ? '' : ` proxy ${inlineItem(declaration.proxy)}`;
        this.line(`partition ${declaration.name.name} = ${range}${proxy}`, 0, anchor);
        return;
      }
      case 'Schedule':
        this.schedule(declaration);
        return;
    }
  }

  private settingsBlock(header: string, settings: readonly Ast.Setting[], node: { loc: Ast.Identifier['loc'] }, indent: number): void {
    if (settings.length === 0) {
      this.line(`${header} {}`, indent, node.loc.start.offset);
      return;
    }
    this.line(`${header} {`, indent, node.loc.start.offset);
    for (const setting of settings) this.line(printSetting(setting), indent + 1, setting.loc.start.offset);
    this.close(node, indent);
  }

  private network(network: Ast.NetworkDeclaration): void {
    const header = `network input ${printExpression(network.input)}`;
    if (network.sections.length === 0) {
      this.line(`${header} {}`, 0, network.loc.start.offset);
      return;
    }
    this.line(`${header} {`, 0, network.loc.start.offset);
    for (const section of network.sections) this.body(`${section.name.name}:`, section.body, 1, section, false);
    this.close(network, 0);
  }

  private schedule(schedule: Ast.ScheduleDeclaration): void {
    if (schedule.phases.length === 0 && schedule.settings.length === 0) {
      this.line('schedule {}', 0, schedule.loc.start.offset);
      return;
    }
    this.line('schedule {', 0, schedule.loc.start.offset);
    for (const setting of schedule.settings) this.line(printSetting(setting), 1, setting.loc.start.offset);
    for (const phase of schedule.phases) {
      const unit = phase.epochs.kind === 'Number' && phase.epochs.value === 1 ? 'epoch' : 'epochs';
      const header = `${phase.mode} ${phase.target.name} for ${printExpression(phase.epochs)} ${unit} with ${printExpression(phase.optimizer)}`;
      if (phase.settings.length === 0) this.line(header, 1, phase.loc.start.offset);
      else this.settingsBlock(header, phase.settings, phase, 1);
    }
    this.close(schedule, 0);
  }

  /** Whether `items` may share one line: no comment inside, and no braced item unless it is alone and itself inline. */
  private inlineAllowed(items: readonly Ast.LayerItem[], owner: { loc: Ast.Identifier['loc'] }): boolean {
    if (this.hasCommentInside(owner)) return false;
    if (items.every((item) => !hasBraces(item))) return true;
    return items.length === 1 && this.itemInlineAllowed(items[0]!);
  }

  private itemInlineAllowed(item: Ast.LayerItem): boolean {
    switch (item.kind) {
      case 'LayerCall':
        return true;
      case 'Repeat':
        return isBracelessRepeat(item) ? !this.hasCommentInside(item) && this.itemInlineAllowed(item.body[0]!) : this.inlineAllowed(item.body, item);
      case 'Residual':
        return this.inlineAllowed(item.body, item);
    }
  }

  /**
   * A header followed by layer items, in braces (`block b {`, `residual {`) or not
   * (`stem:`). `anchor` is where the first line starts in the source when the
   * header belongs to an enclosing item (`repeat 2 residual {`).
   */
  private body(
    header: string,
    items: readonly Ast.LayerItem[],
    indent: number,
    owner: { loc: Ast.Identifier['loc'] },
    braces: boolean,
    anchor = owner.loc.start.offset,
  ): void {
    if (items.length === 0) {
      this.line(braces ? `${header} {}` : header, indent, anchor);
      return;
    }
    const inline = braces ? `${header} ${inlineBody(items)}` : `${header} ${items.map(inlineItem).join(' ')}`;
    if (this.inlineAllowed(items, owner) && INDENT.length * indent + inline.length <= MAX_WIDTH) {
      this.line(inline, indent, anchor);
      return;
    }
    this.line(braces ? `${header} {` : header, indent, anchor);
    for (const item of items) this.item(item, indent + 1, '', item.loc.start.offset);
    if (braces) this.close(owner, indent);
  }

  /** One layer item on its own line(s); `prefix` is the header of an enclosing braceless repeat. */
  private item(item: Ast.LayerItem, indent: number, prefix: string, anchor: number): void {
    switch (item.kind) {
      case 'LayerCall':
        this.line(`${prefix}${inlineItem(item)}`, indent, anchor);
        return;
      case 'Repeat':
        if (isBracelessRepeat(item)) {
          const only = item.body[0]!;
          const inline = `${prefix}${inlineItem(item)}`;
          if (!this.hasCommentInside(item) && this.itemInlineAllowed(only) && INDENT.length * indent + inline.length <= MAX_WIDTH) {
            this.line(inline, indent, anchor);
          } else {
            this.item(only, indent, `${prefix}${repeatHeader(item)} `, anchor);
          }
        } else {
          this.body(`${prefix}${repeatHeader(item)}`, item.body, indent, item, true, anchor);
        }
        return;
      case 'Residual':
        this.body(`${prefix}residual${optionalArguments(item.args)}`, item.body, indent, item, true, anchor);
        return;
    }
  }
}

// ---------------------------------------------------------------- comments

/**
 * A comment trails code when some node starts or ends on its line before it.
 * Built once per plan: the smallest node offset seen on each line.
 */
function trailingCommentTest(plan: Ast.Plan): (comment: Ast.Comment) => boolean {
  const firstOnLine = new Map<number, number>();
  const note = (line: number, offset: number) => {
    const known = firstOnLine.get(line);
    if (known === undefined || offset < known) firstOnLine.set(line, offset);
  };
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const element of value) visit(element);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const node = value as { kind?: unknown; loc?: Ast.Identifier['loc'] };
    if (node.kind === 'Comment') return;
    if (node.loc !== undefined) {
      note(node.loc.start.line, node.loc.start.offset);
      note(node.loc.end.line, Math.max(node.loc.start.offset, node.loc.end.offset - 1));
    }
    for (const [key, child] of Object.entries(value)) if (key !== 'loc' && key !== 'comments') visit(child);
  };
  visit(plan);
  return (comment) => {
    const first = firstOnLine.get(comment.loc.start.line);
    return first !== undefined && first < comment.loc.start.offset;
  };
}

function renderWithComments(lines: readonly Line[], comments: readonly Ast.Comment[], isTrailing: (comment: Ast.Comment) => boolean): string {
  const before = lines.map((): Ast.Comment[] => []);
  const after: Ast.Comment[] = [];
  const trailing = lines.map((): Ast.Comment | undefined => undefined);
  const codeLines = lines.flatMap((line, index) => (line.anchor === undefined ? [] : [index]));

  const sorted = [...comments].sort((a, b) => a.loc.start.offset - b.loc.start.offset);
  for (const comment of sorted) {
    const offset = comment.loc.start.offset;
    if (isTrailing(comment)) {
      // The last printed line that starts at or before the comment.
      let target: number | undefined;
      for (const index of codeLines) {
        if (lines[index]!.anchor! <= offset) target = index;
        else break;
      }
      if (target !== undefined && trailing[target] === undefined) {
        trailing[target] = comment;
        continue;
      }
      // A second trailing comment for one line goes alone on the next line.
      const next = codeLines.find((index) => target !== undefined && index > target);
      if (next === undefined) after.push(comment);
      else before[next]!.push(comment);
      continue;
    }
    const next = codeLines.find((index) => lines[index]!.anchor! > offset);
    if (next === undefined) after.push(comment);
    else before[next]!.push(comment);
  }

  const out: string[] = [];
  lines.forEach((line, index) => {
    for (const comment of before[index]!) out.push(`${INDENT.repeat(line.commentIndent)}${comment.text.trimEnd()}`);
    const text = line.text === '' ? '' : `${INDENT.repeat(line.indent)}${line.text}`;
    const comment = trailing[index];
    out.push(comment === undefined ? text : `${text} ${comment.text.trimEnd()}`);
  });
  for (const comment of after) out.push(comment.text.trimEnd());
  return `${out.join('\n')}\n`;
}
