import { describe, expect, test } from 'vitest';
import type * as Ast from '../../src/syntax/ast.js';
import { parsePlan } from '../../src/syntax/parse.js';
import { stripLocations } from '../support/ast-arbitraries.js';
import { fixture } from './samples.js';

// Location-free builders for expected trees.
const id = (name: string) => ({ kind: 'Identifier', name });
const num = (value: number) => ({ kind: 'Number', value });
const ref = (name: string) => ({ kind: 'Ref', name });
const str = (value: string) => ({ kind: 'String', value });
const bool = (value: boolean) => ({ kind: 'Boolean', value });
const arg = (value: object, name?: string) => (name === undefined ? { kind: 'Argument', value } : { kind: 'Argument', name: id(name), value });
const call = (name: string, ...args: object[]) => ({ kind: 'Call', callee: id(name), args });
const layer = (name: string, ...args: object[]) => ({ kind: 'LayerCall', callee: id(name), args });
const bin = (op: string, left: object, right: object) => ({ kind: 'Binary', op, left, right });
const setting = (name: string, ...values: object[]) => ({ kind: 'Setting', name: id(name), values });

function parseOk(text: string): Ast.Plan {
  const { plan, diagnostics } = parsePlan(text, 'test.mono');
  expect(diagnostics).toEqual([]);
  return plan!;
}

function declarations(body: string): unknown[] {
  return stripLocations(parseOk(`plan t\n${body}`).declarations) as unknown[];
}

function expression(text: string): unknown {
  const [param] = declarations(`param x = ${text}`) as { value: unknown }[];
  return param!.value;
}

describe('parser: declarations', () => {
  test('plan header alone', () => {
    expect(stripLocations(parseOk('plan monolithnet'))).toEqual({ kind: 'Plan', name: id('monolithnet'), declarations: [], comments: [] });
  });

  test('params', () => {
    expect(declarations('param width = 8 param w2 = width * 2')).toEqual([
      { kind: 'Param', name: id('width'), value: num(8) },
      { kind: 'Param', name: id('w2'), value: bin('*', ref('width'), num(2)) },
    ]);
  });

  test('data with a call source and settings of one or more values', () => {
    expect(declarations('data cifar10("dir") { augment crop(pad: 4), flip\n batch 128 normalize fixed(mean: [0.5], std: [0.2]) }')).toEqual([
      {
        kind: 'Data',
        source: call('cifar10', arg(str('dir'))),
        settings: [
          setting('augment', call('crop', arg(num(4), 'pad')), ref('flip')),
          setting('batch', num(128)),
          setting('normalize', call('fixed', arg({ kind: 'List', items: [num(0.5)] }, 'mean'), arg({ kind: 'List', items: [num(0.2)] }, 'std'))),
        ],
      },
    ]);
  });

  test('data with a bare source and no settings', () => {
    expect(declarations('data mnist {}')).toEqual([{ kind: 'Data', source: ref('mnist'), settings: [] }]);
  });

  test('data braces are optional: without them the declaration ends at its source', () => {
    const text = 'plan t\ndata synthetic(examples: 100, classes: 2, shape: [4], noise: 0.1)\nparam x = 1';
    const data = parseOk(text).declarations[0]!;
    expect(stripLocations(data)).toEqual({
      kind: 'Data',
      source: call('synthetic', arg(num(100), 'examples'), arg(num(2), 'classes'), arg({ kind: 'List', items: [num(4)] }, 'shape'), arg(num(0.1), 'noise')),
      settings: [],
    });
    expect(text.slice(data.loc.start.offset, data.loc.end.offset)).toBe('data synthetic(examples: 100, classes: 2, shape: [4], noise: 0.1)');
    expect(declarations('data mnist\nparam x = 1')).toEqual([
      { kind: 'Data', source: ref('mnist'), settings: [] },
      { kind: 'Param', name: id('x'), value: num(1) },
    ]);
  });

  test('settings without their braces are a clean syntax error', () => {
    const { diagnostics } = parsePlan('plan t\ndata mnist\n  batch 32\n', 'test.mono');
    expect(diagnostics.map((d) => d.message)).toEqual([
      "expected a declaration (param, data, block, head, network, partition or schedule) but found 'batch'",
    ]);
  });

  test('blocks and heads with parameters and defaults', () => {
    expect(declarations('block basic(f, stride = 1) { conv(f, 3, stride: stride) relu } head gap(classes) { global_avg_pool dense(classes) } block plain { }')).toEqual([
      {
        kind: 'Block',
        name: id('basic'),
        params: [
          { kind: 'ParameterDefinition', name: id('f') },
          { kind: 'ParameterDefinition', name: id('stride'), default: num(1) },
        ],
        body: [layer('conv', arg(ref('f')), arg(num(3)), arg(ref('stride'), 'stride')), layer('relu')],
      },
      { kind: 'Head', name: id('gap'), params: [{ kind: 'ParameterDefinition', name: id('classes') }], body: [layer('global_avg_pool'), layer('dense', arg(ref('classes')))] },
      { kind: 'Block', name: id('plain'), params: [], body: [] },
    ]);
  });

  test('network sections end where the next `name:` begins', () => {
    expect(declarations('network input [32, 32, 3] { stem: conv(16, 3) bn relu\n out: dense(10) empty: }')).toEqual([
      {
        kind: 'Network',
        input: { kind: 'List', items: [num(32), num(32), num(3)] },
        sections: [
          { kind: 'Section', name: id('stem'), body: [layer('conv', arg(num(16)), arg(num(3))), layer('bn'), layer('relu')] },
          { kind: 'Section', name: id('out'), body: [layer('dense', arg(num(10)))] },
          { kind: 'Section', name: id('empty'), body: [] },
        ],
      },
    ]);
  });

  test('partitions: single section, range, proxy head', () => {
    expect(declarations('partition p1 = stem .. stage1 proxy gap(10)\npartition p2 = stage2\npartition p3 = a proxy linear')).toEqual([
      { kind: 'Partition', name: id('p1'), from: id('stem'), to: id('stage1'), proxy: layer('gap', arg(num(10))) },
      { kind: 'Partition', name: id('p2'), from: id('stage2') },
      { kind: 'Partition', name: id('p3'), from: id('a'), proxy: layer('linear') },
    ]);
  });

  test('schedule settings, then phases: train and finetune, epoch and epochs, optional settings', () => {
    const text = `schedule {
      best val_loss
      train p1 for 30 epochs with msgd(lr: 0.1, decay: 5e-4) { lr cosine(to: 1e-3) lr_mult "stage1/*", 0.1 stop early(patience: 3, restore: true) }
      train p2 for 1 epoch with msgd(lr: mi(max: 0.1))
      finetune all for 5 epochs with adam
    }`;
    expect(declarations(text)).toEqual([
      {
        kind: 'Schedule',
        settings: [setting('best', ref('val_loss'))],
        phases: [
          {
            kind: 'Phase',
            mode: 'train',
            target: id('p1'),
            epochs: num(30),
            optimizer: call('msgd', arg(num(0.1), 'lr'), arg(num(5e-4), 'decay')),
            settings: [
              setting('lr', call('cosine', arg(num(1e-3), 'to'))),
              setting('lr_mult', str('stage1/*'), num(0.1)),
              setting('stop', call('early', arg(num(3), 'patience'), arg(bool(true), 'restore'))),
            ],
          },
          { kind: 'Phase', mode: 'train', target: id('p2'), epochs: num(1), optimizer: call('msgd', arg(call('mi', arg(num(0.1), 'max')), 'lr')), settings: [] },
          { kind: 'Phase', mode: 'finetune', target: id('all'), epochs: num(5), optimizer: call('adam'), settings: [] },
        ],
      },
    ]);
  });

  test('a phase between schedule settings is a syntax error: settings come first', () => {
    const result = parsePlan(`plan p\nschedule {\n  train p1 for 1 epoch with sgd(lr: 0.1)\n  best val_acc\n}\n`, 'test.mono');
    expect(result.diagnostics.map((d) => `${d.range.start.line}: ${d.message}`)).toEqual([expect.stringMatching(/^4: expected/)]);
  });
});

describe('parser: layer items', () => {
  function body(items: string): unknown {
    const [block] = declarations(`block b { ${items} }`) as { body: unknown }[];
    return block!.body;
  }

  test('repeat of one item, of a braced list, and shared with and without arguments', () => {
    expect(body('repeat depth - 1 basic(32) repeat 2 { conv(64, 3) bn } repeat 16 shared basic(64) repeat 8 shared(scale: 0.5) basic(64)')).toEqual([
      { kind: 'Repeat', count: bin('-', ref('depth'), num(1)), body: [layer('basic', arg(num(32)))] },
      { kind: 'Repeat', count: num(2), body: [layer('conv', arg(num(64)), arg(num(3))), layer('bn')] },
      { kind: 'Repeat', count: num(16), shared: { kind: 'Shared', args: [] }, body: [layer('basic', arg(num(64)))] },
      { kind: 'Repeat', count: num(8), shared: { kind: 'Shared', args: [arg(num(0.5), 'scale')] }, body: [layer('basic', arg(num(64)))] },
    ]);
  });

  test('residual with and without arguments, nested', () => {
    expect(body('residual { conv(8, 3) residual(projection: false, scale: 0.5) { relu } } repeat 2 residual { bn }')).toEqual([
      {
        kind: 'Residual',
        args: [],
        body: [
          layer('conv', arg(num(8)), arg(num(3))),
          { kind: 'Residual', args: [arg({ kind: 'Boolean', value: false }, 'projection'), arg(num(0.5), 'scale')], body: [layer('relu')] },
        ],
      },
      { kind: 'Repeat', count: num(2), body: [{ kind: 'Residual', args: [], body: [layer('bn')] }] },
    ]);
  });
});

describe('parser: expressions', () => {
  test('precedence and left associativity', () => {
    expect(expression('1 + 2 * 3')).toEqual(bin('+', num(1), bin('*', num(2), num(3))));
    expect(expression('8 - 4 - 2')).toEqual(bin('-', bin('-', num(8), num(4)), num(2)));
    expect(expression('8 / 4 / 2')).toEqual(bin('/', bin('/', num(8), num(4)), num(2)));
    expect(expression('(1 + 2) * 3')).toEqual(bin('*', bin('+', num(1), num(2)), num(3)));
    expect(expression('-a * b')).toEqual(bin('*', { kind: 'Unary', op: '-', operand: ref('a') }, ref('b')));
    expect(expression('- -1')).toEqual({ kind: 'Unary', op: '-', operand: { kind: 'Unary', op: '-', operand: num(1) } });
  });

  test('literals', () => {
    expect(expression('1e-3')).toEqual(num(0.001));
    expect(expression('1e+21')).toEqual(num(1e21));
    expect(expression('80%')).toEqual({ kind: 'Percent', value: 80 });
    expect(expression('"say \\"hi\\" \\\\ now"')).toEqual(str('say "hi" \\ now'));
    expect(expression('true')).toEqual({ kind: 'Boolean', value: true });
    expect(expression('[]')).toEqual({ kind: 'List', items: [] });
    expect(expression('f()')).toEqual(call('f'));
    expect(expression('f')).toEqual(ref('f'));
  });

  test('keywords may name arguments, as in the schedule catalogue', () => {
    expect(expression('warmup(epochs: 1, then: cosine(to: 0))')).toEqual(call('warmup', arg(num(1), 'epochs'), arg(call('cosine', arg(num(0), 'to')), 'then')));
    expect(expression('f(true: false, true)')).toEqual(call('f', arg({ kind: 'Boolean', value: false }, 'true'), arg({ kind: 'Boolean', value: true })));
  });
});

describe('parser: locations', () => {
  test('nodes carry 1-based line:col, 0-based offsets and exclusive ends', () => {
    const text = 'plan t\nblock b(f) {\n  conv(f, 3)   relu\n}\n';
    const plan = parseOk(text);
    const block = plan.declarations[0] as Ast.BlockDeclaration;
    const conv = block.body[0]!;
    expect(conv.loc).toEqual({ start: { offset: 22, line: 3, column: 3 }, end: { offset: 32, line: 3, column: 13 } });
    expect(text.slice(conv.loc.start.offset, conv.loc.end.offset)).toBe('conv(f, 3)');
    expect(text.slice(block.loc.start.offset, block.loc.end.offset)).toBe('block b(f) {\n  conv(f, 3)   relu\n}');
    expect(block.loc.end).toEqual({ offset: 41, line: 4, column: 2 });
  });

  test('every node of the spec example has a range that covers its source text', () => {
    const text = fixture('spec-example.mono');
    const plan = parseOk(text);
    const check = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(check);
      if (typeof node !== 'object' || node === null) return;
      const { loc, kind } = node as { loc?: Ast.Plan['loc']; kind?: string };
      if (loc !== undefined) {
        const source = text.slice(loc.start.offset, loc.end.offset);
        expect(source.length, kind).toBeGreaterThan(0);
        if (kind === 'Identifier') expect(source).toBe((node as Ast.Identifier).name);
        if (kind === 'Comment') expect(source).toBe((node as Ast.Comment).text);
      }
      Object.entries(node).forEach(([key, child]) => key !== 'loc' && check(child));
    };
    check(plan);
    expect(plan.comments.length).toBeGreaterThan(10);
  });

  test('parenthesized operands are inside the range of the expression', () => {
    const plan = parseOk('plan t param x = (1 + 2) * 3');
    const value = (plan.declarations[0] as Ast.ParamDeclaration).value;
    expect(value.loc.start.column).toBe(18);
  });
});
