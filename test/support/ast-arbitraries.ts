/**
 * fast-check arbitraries for syntactically valid .mono ASTs (all locations NO_RANGE),
 * for round-trip and downstream property tests. Names are never keywords, numbers
 * are finite and non-negative (a minus sign is a Unary node), strings stay on one line.
 */
import fc from 'fast-check';
import type * as Ast from '../../src/syntax/ast.js';
import { NO_RANGE } from '../../src/syntax/location.js';
import { KEYWORDS } from '../../src/syntax/tokens.js';

const loc = fc.constant(NO_RANGE);

export const nameArbitrary: fc.Arbitrary<string> = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,7}$/)
  .filter((name) => !KEYWORDS.has(name));

export const identifierArbitrary: fc.Arbitrary<Ast.Identifier> = fc.record({ kind: fc.constant('Identifier' as const), name: nameArbitrary, loc });

/** Argument names may be keywords: `warmup(epochs: 1)`. */
export const argumentNameArbitrary: fc.Arbitrary<Ast.Identifier> = fc.record({
  kind: fc.constant('Identifier' as const),
  name: fc.oneof({ weight: 4, arbitrary: nameArbitrary }, { weight: 1, arbitrary: fc.constantFrom(...KEYWORDS) }),
  loc,
});

export const numberValueArbitrary: fc.Arbitrary<number> = fc.oneof(
  fc.nat(10_000),
  fc.double({ min: 0, max: 1e300, noNaN: true, noDefaultInfinity: true }).map(Math.abs),
  fc.constantFrom(0.1, 1e-3, 5e-4, 1e21, 1e-7),
);

const leafExpression: fc.Arbitrary<Ast.Expression> = fc.oneof(
  fc.record({ kind: fc.constant('Number' as const), value: numberValueArbitrary, loc }),
  fc.record({ kind: fc.constant('Percent' as const), value: numberValueArbitrary, loc }),
  fc.record({ kind: fc.constant('String' as const), value: fc.string({ maxLength: 8 }).filter((s) => !/[\r\n]/.test(s)), loc }),
  fc.record({ kind: fc.constant('Boolean' as const), value: fc.boolean(), loc }),
  fc.record({ kind: fc.constant('Ref' as const), name: nameArbitrary, loc }),
);

type ExpressionArbitraries = {
  expression: Ast.Expression;
  argument: Ast.Argument;
  call: Ast.CallExpression;
};

export const { expression: expressionArbitrary, argument: argumentArbitrary, call: callArbitrary } = fc.letrec<ExpressionArbitraries>((tie) => ({
  expression: fc.oneof(
    { maxDepth: 3, depthSize: 'small' },
    leafExpression,
    fc.record({ kind: fc.constant('List' as const), items: fc.array(tie('expression'), { maxLength: 3 }), loc }),
    tie('call'),
    fc.record({
      kind: fc.constant('Binary' as const),
      op: fc.constantFrom<Ast.BinaryOperator>('+', '-', '*', '/'),
      left: tie('expression'),
      right: tie('expression'),
      loc,
    }),
    fc.record({ kind: fc.constant('Unary' as const), op: fc.constant('-' as const), operand: tie('expression'), loc }),
  ),
  argument: fc.record(
    { kind: fc.constant('Argument' as const), name: argumentNameArbitrary, value: tie('expression'), loc },
    { requiredKeys: ['kind', 'value', 'loc'] },
  ),
  call: fc.record({ kind: fc.constant('Call' as const), callee: identifierArbitrary, args: fc.array(tie('argument'), { maxLength: 3 }), loc }),
}));

const argumentsArbitrary = fc.array(argumentArbitrary, { maxLength: 3 });

export const layerCallArbitrary: fc.Arbitrary<Ast.LayerCall> = fc.record({
  kind: fc.constant('LayerCall' as const),
  callee: identifierArbitrary,
  args: argumentsArbitrary,
  loc,
});

type LayerArbitraries = {
  item: Ast.LayerItem;
  body: Ast.LayerItem[];
};

export const { item: layerItemArbitrary, body: layerBodyArbitrary } = fc.letrec<LayerArbitraries>((tie) => ({
  item: fc.oneof(
    { maxDepth: 3, depthSize: 'small' },
    layerCallArbitrary,
    fc.record(
      {
        kind: fc.constant('Repeat' as const),
        count: expressionArbitrary,
        shared: fc.record({ kind: fc.constant('Shared' as const), args: argumentsArbitrary, loc }),
        body: tie('body'),
        loc,
      },
      { requiredKeys: ['kind', 'count', 'body', 'loc'] },
    ),
    fc.record({ kind: fc.constant('Residual' as const), args: argumentsArbitrary, body: tie('body'), loc }),
  ),
  body: fc.array(tie('item'), { maxLength: 4 }),
}));

const settingArbitrary: fc.Arbitrary<Ast.Setting> = fc.record({
  kind: fc.constant('Setting' as const),
  name: identifierArbitrary,
  values: fc.array(expressionArbitrary, { minLength: 1, maxLength: 3 }),
  loc,
});
const settingsArbitrary = fc.array(settingArbitrary, { maxLength: 3 });

const parametersArbitrary = fc.array(
  fc.record(
    { kind: fc.constant('ParameterDefinition' as const), name: identifierArbitrary, default: expressionArbitrary, loc },
    { requiredKeys: ['kind', 'name', 'loc'] },
  ),
  { maxLength: 3 },
);

const phaseArbitrary: fc.Arbitrary<Ast.PhaseDeclaration> = fc.record({
  kind: fc.constant('Phase' as const),
  mode: fc.constantFrom<'train' | 'finetune'>('train', 'finetune'),
  target: identifierArbitrary,
  epochs: expressionArbitrary,
  optimizer: callArbitrary,
  settings: settingsArbitrary,
  loc,
}).map((phase) => (phase.mode === 'finetune' ? { ...phase, target: { ...phase.target, name: 'all' } } : phase));

export const declarationArbitrary: fc.Arbitrary<Ast.Declaration> = fc.oneof(
  fc.record({ kind: fc.constant('Param' as const), name: identifierArbitrary, value: expressionArbitrary, loc }),
  fc.record({
    kind: fc.constant('Data' as const),
    source: fc.oneof(fc.record({ kind: fc.constant('Ref' as const), name: nameArbitrary, loc }), callArbitrary),
    settings: settingsArbitrary,
    loc,
  }),
  fc.record({ kind: fc.constant('Block' as const), name: identifierArbitrary, params: parametersArbitrary, body: layerBodyArbitrary, loc }),
  fc.record({ kind: fc.constant('Head' as const), name: identifierArbitrary, params: parametersArbitrary, body: layerBodyArbitrary, loc }),
  fc.record({
    kind: fc.constant('Network' as const),
    input: expressionArbitrary,
    sections: fc.array(fc.record({ kind: fc.constant('Section' as const), name: identifierArbitrary, body: layerBodyArbitrary, loc }), {
      maxLength: 4,
    }),
    loc,
  }),
  fc.record(
    {
      kind: fc.constant('Partition' as const),
      name: identifierArbitrary,
      from: identifierArbitrary,
      to: identifierArbitrary,
      proxy: layerCallArbitrary,
      loc,
    },
    { requiredKeys: ['kind', 'name', 'from', 'loc'] },
  ),
  fc.record({ kind: fc.constant('Schedule' as const), settings: settingsArbitrary, phases: fc.array(phaseArbitrary, { maxLength: 3 }), loc }),
);

export const planArbitrary: fc.Arbitrary<Ast.Plan> = fc.record({
  kind: fc.constant('Plan' as const),
  name: identifierArbitrary,
  declarations: fc.array(declarationArbitrary, { maxLength: 6 }),
  comments: fc.constant([]),
  loc,
});

/** A deep copy without `loc` fields and without properties set to undefined, for comparing trees. */
export function stripLocations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripLocations);
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === 'loc' || child === undefined) continue;
    copy[key] = stripLocations(child);
  }
  return copy;
}
