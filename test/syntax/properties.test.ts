import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { parsePlan } from '../../src/syntax/parse.js';
import { formatSource, printPlan } from '../../src/syntax/printer.js';
import { monoLexer } from '../../src/syntax/tokens.js';
import { planArbitrary, stripLocations } from '../support/ast-arbitraries.js';
import { rangeProblem } from './positions.js';
import { SAMPLES } from './samples.js';

function expectSaneDiagnostics(text: string): void {
  const { diagnostics } = parsePlan(text, 'fuzz.mono');
  for (const diagnostic of diagnostics) {
    expect(diagnostic.code).toBe('syntax-error');
    // The parser catches its own crashes as "internal error" diagnostics; none may occur.
    expect(diagnostic.message).not.toContain('internal error');
    expect(rangeProblem(text, diagnostic.range), diagnostic.message).toBeUndefined();
  }
}

describe('round trip', () => {
  test.prop([planArbitrary], { numRuns: 100 })('print then parse gives back the same tree', (plan) => {
    const source = printPlan(plan);
    const reparsed = parsePlan(source, 'round-trip.mono');
    expect(reparsed.diagnostics, source).toEqual([]);
    expect(stripLocations(reparsed.plan)).toEqual(stripLocations(plan));
  });

  test.prop([planArbitrary], { numRuns: 50 })('printing a random tree is already canonical', (plan) => {
    const source = printPlan(plan);
    expect(formatSource(source, 'x.mono').output).toBe(source);
  });
});

describe('robustness', () => {
  test.prop([fc.string({ maxLength: 200 })], { numRuns: 200 })('any string yields diagnostics, never an exception', (text) => {
    expectSaneDiagnostics(text);
  });

  const alphabet = fc.constantFrom(
    'plan', 'param', 'block', 'network', 'input', 'repeat', 'shared', 'residual', 'partition', 'proxy', 'schedule',
    'train', 'for', 'epochs', 'with', 'x', 'conv', '(', ')', '{', '}', '[', ']', ',', ':', '=', '..', '1', '2e-3',
    '80%', '"s"', '+', '-', '*', '/', '\n', ' ', '# c\n', '"', '\\', '$',
  );
  test.prop([fc.array(alphabet, { maxLength: 60 })], { numRuns: 200 })('token soup yields sane diagnostics', (pieces) => {
    expectSaneDiagnostics(pieces.join(' '));
  });

  for (const sample of SAMPLES) {
    const tokens = monoLexer.tokenize(sample.text).tokens;
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(tokens.length - 1) }),
      fc.record({ op: fc.constant('swap' as const), at: fc.nat(tokens.length - 1), with: fc.nat(tokens.length - 1) }),
      fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(tokens.length - 1) }),
    );
    test.prop([fc.array(mutation, { minLength: 1, maxLength: 4 })], { numRuns: 40 })(
      `mutations of ${sample.name} yield sane diagnostics`,
      (mutations) => {
        // Splice token ranges of the original text so comments and line breaks survive.
        const pieces = tokens.map((token) => sample.text.slice(token.startOffset, token.endOffset! + 1));
        for (const mutation of mutations) {
          if (mutation.op === 'delete') pieces.splice(mutation.at % pieces.length, 1);
          else if (mutation.op === 'duplicate') pieces.splice(mutation.at % pieces.length, 0, pieces[mutation.at % pieces.length]!);
          else {
            const a = mutation.at % pieces.length;
            const b = mutation.with % pieces.length;
            [pieces[a], pieces[b]] = [pieces[b]!, pieces[a]!];
          }
          if (pieces.length === 0) break;
        }
        expectSaneDiagnostics(pieces.join(' '));
      },
    );
  }
});

describe('idempotence', () => {
  const placement = fc.record({ line: fc.nat(), trailing: fc.boolean(), slashes: fc.boolean() });
  test.prop([planArbitrary, fc.array(placement, { maxLength: 6 })], { numRuns: 60 })(
    'comments anywhere survive formatting, in order, and a second format changes nothing',
    (plan, placements) => {
      const lines = printPlan(plan).trimEnd().split('\n');
      placements.forEach((place, index) => {
        const text = `${place.slashes ? '//' : '#'} c${index}`;
        const at = place.line % lines.length;
        if (place.trailing) lines[at] = `${lines[at]} ${text}`;
        else lines.splice(at, 0, text);
      });
      const source = lines.join('\n');
      const once = formatSource(source, 'commented.mono');
      expect(once.diagnostics, source).toEqual([]);
      const expected = parsePlan(source, 'commented.mono').plan!.comments.map((c) => c.text);
      expect(parsePlan(once.output!, 'x.mono').plan!.comments.map((c) => c.text)).toEqual(expected);
      expect(formatSource(once.output!, 'x.mono').output).toBe(once.output);
    },
  );

  for (const sample of SAMPLES) {
    test(`formatting ${sample.name} twice changes nothing more`, () => {
      const once = formatSource(sample.text, sample.name);
      expect(once.diagnostics).toEqual([]);
      const twice = formatSource(once.output!, sample.name);
      expect(twice.output).toBe(once.output);
      // Formatting keeps the tree and every comment.
      const original = parsePlan(sample.text, sample.name).plan!;
      const formatted = parsePlan(once.output!, sample.name).plan!;
      expect(stripLocations(formatted.declarations)).toEqual(stripLocations(original.declarations));
      expect(formatted.comments.map((c) => c.text)).toEqual(original.comments.map((c) => c.text.trimEnd()));
    });
  }
});
