import { describe, expect, it } from 'vitest';
import { renderDiagnostics } from '../../src/diagnostics/render.js';
import { parseSweepArgs, parseSweepFile } from '../../src/sweep/parse.js';

const parse = (text: string) => parseSweepFile(text, 'exp.sweep', '/base');
const at = (d: { range: { start: { line: number; column: number } } }) => `${d.range.start.line}:${d.range.start.column}`;

describe('sweep files', () => {
  it('reads plan, seeds, set, grid, random, trials, sample_seed and backend', () => {
    const { spec, diagnostics } = parse(
      [
        '# a comment',
        'plan "plans/q.mono"  # trailing comment',
        'seeds 1, 2,',
        '  3',
        'set phase_epochs = 2',
        'grid lr0 = 0.01, 5e-2, 0.1; grid name = "a", "b"',
        'random width = int(1, 4)',
        'random flag = choice(true, false)',
        'trials 5',
        'sample_seed 7',
        'backend node-gpu',
      ].join('\n'),
    );
    expect(diagnostics).toEqual([]);
    expect(spec!.seeds!.map((s) => s.value)).toEqual([1, 2, 3]);
    expect(spec!.sampleSeed).toBe(7);
    expect(spec!.backend!.value).toBe('node-gpu');
    const [arm] = spec!.arms;
    expect(arm!.name.value).toBe('q');
    expect(arm!.plan!.value).toBe('plans/q.mono');
    expect(arm!.fixed.map((e) => [e.name.value, e.value.text])).toEqual([['phase_epochs', '2']]);
    expect(arm!.grid.map((e) => [e.name.value, e.values.map((v) => v.text)])).toEqual([
      ['lr0', ['0.01', '5e-2', '0.1']],
      ['name', ['"a"', '"b"']],
    ]);
    expect(arm!.grid[0]!.values[1]!.number).toBe(0.05);
    expect(arm!.random.map((e) => e.distribution.kind)).toEqual(['int', 'choice']);
    expect(arm!.trials!.value).toBe(5);
  });

  it('gives each arm the top-level entries it does not replace', () => {
    const { spec, diagnostics } = parse(
      ['seeds 1', 'plan "a.mono"', 'set epochs_p1 = 1', 'grid lr = 0.1, 0.2', '', 'arm sgd {', '  grid lr = 1, 2, 3', '}', 'arm adam { plan "b.mono" }'].join('\n'),
    );
    expect(diagnostics).toEqual([]);
    const [sgd, adam] = spec!.arms;
    expect([sgd!.name.value, sgd!.plan!.value, sgd!.grid[0]!.values.length, sgd!.fixed.length]).toEqual(['sgd', 'a.mono', 3, 1]);
    expect([adam!.name.value, adam!.plan!.value, adam!.grid[0]!.values.length]).toEqual(['adam', 'b.mono', 2]);
  });

  it.each([
    ['plan "a.mono"\ngrdi lr = 1', '2:1', "expected one of plan, seeds, set, grid, random, trials, sample_seed, backend, arm, found 'grdi'", "did you mean 'grid'?"],
    ['plan "a.mono"\ngrid lr = 1,\n', '3:1', 'expected a value (a number, a "string", true or false), found the end of the text', undefined],
    ['plan "a.mono"\ngrid lr 1', '2:9', "expected '=' after the param name 'lr', found '1'", undefined],
    ['plan "a.mono"\ngrid lr = 1, 1', '2:14', 'grid lr: 1 is listed twice', undefined],
    ['plan "a.mono"\nrandom lr = log(0, 1)', '2:17', 'log(low, high) draws on a log scale: low must be > 0, got 0', undefined],
    ['plan "a.mono"\nrandom lr = uniform(2, 1)', '2:13', 'uniform(low, high) needs low < high, got 2 and 1', 'swap the bounds'],
    ['plan "a.mono"\nrandom w = int(1.5, 4)', '2:12', 'int(low, high) takes whole numbers, got 1.5 and 4', undefined],
    ['plan "a.mono"\nrandom w = gauss(1, 4)', '2:12', 'expected a distribution: uniform(...), log(...), int(...), choice(...); found \'gauss\'', undefined],
    ['plan "a.mono"\ngrid lr = 1\nrandom lr = log(1, 2)\ntrials 2', '3:8', "param 'lr' is already given at line 2 (use one of set, grid, random per param)", undefined],
    ['plan "a.mono"\narm x { seeds 1 }', '2:9', "'seeds' belongs at the top level, not inside an arm", undefined],
    ['plan "a.mono\n', '1:6', 'unterminated string: a closing " is missing on this line', undefined],
    ['plan "a.mono"\ntrials 0', '2:8', 'trials expects a whole number >= 1, found \'0\'', undefined],
    ['plan "a.mono"\nseeds 1, 1', '2:10', 'seed 1 is listed twice', undefined],
    ['grid lr = 1', '1:1', 'the sweep names no plan', 'add a line such as: plan "quickstart.mono"'],
    ['plan "a.mono"\narm x { grid lr = 1', '2:20', "expected '}' to close 'arm x {'", undefined],
    ['plan "a.mono" grid', '1:15', "expected the end of the statement, found 'grid'", undefined],
    ['plan "a.mono"\nset lr = $', '2:10', "unexpected character '$'", undefined],
  ])('%j: error at %s', (text, position, message, hint) => {
    const { spec, diagnostics } = parse(text);
    expect(spec).toBeNull();
    const first = diagnostics[0]!;
    expect([at(first), first.message, first.hint]).toEqual([position, message, hint]);
    expect(first.file).toBe('exp.sweep');
  });

  it('reports every problem of a file at once, with a caret excerpt', () => {
    const text = 'plan "a.mono"\ngrid lr = 1, x\ntrials -1\n';
    const { diagnostics, sources } = parse(text);
    expect(diagnostics.map(at)).toEqual(['2:14', '3:8']);
    expect(renderDiagnostics(diagnostics, sources)).toContain('exp.sweep:2:14: error: expected a value (a number, a "string", true or false), found \'x\'\n  |\n2 | grid lr = 1, x\n  |              ^');
  });
});

describe('sweeps on the command line', () => {
  it('puts each option\'s arguments on the lines of a virtual file named after it', () => {
    const { spec, diagnostics, sources } = parseSweepArgs({ plan: 'p.mono', grid: ['a=1,2', 'b="x", "y"'], random: ['lr=log(1e-3, 1e-1)'], trials: '4', seeds: '1,2', set: ['c=true'], baseDir: '/cwd' });
    expect(diagnostics).toEqual([]);
    expect(sources.get('--grid')).toBe('a=1,2\nb="x", "y"');
    const arm = spec!.arms[0]!;
    expect(arm.grid[1]!.values[1]!.range.start).toMatchObject({ line: 2, column: 8 });
    expect(arm.random[0]!.distribution).toMatchObject({ kind: 'log', low: { number: 1e-3 }, high: { number: 0.1 } });
    expect(spec!.seeds!.map((s) => s.value)).toEqual([1, 2]);
    expect(arm.trials!.value).toBe(4);
  });

  it('points at the argument and column of a problem', () => {
    const { diagnostics, sources } = parseSweepArgs({ plan: 'p.mono', grid: ['a=1', 'b=2,,3'], random: ['a=int(1, 2)'], seeds: '1,-2', baseDir: '/cwd' });
    const text = renderDiagnostics(diagnostics, sources);
    expect(diagnostics.map((d) => `${d.file}:${at(d)}`)).toEqual(['--grid:2:5', '--random:1:1', '--seeds:1:3']);
    expect(text).toContain("--grid:2:5: error: expected a value (a number, a \"string\", true or false), found ','\n  |\n2 | b=2,,3\n  |     ^");
    expect(diagnostics[1]!.message).toMatch(/param 'a' is already given/);
    expect(diagnostics[2]!.message).toBe("--seeds expects a whole number >= 0, found '-2'");
  });
});
