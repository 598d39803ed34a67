import { describe, expect, it } from 'vitest';
import { formatSpread, resultsCsv, resultsMarkdown, resultsPlot, spread, summarizeConfigs, trialResultOf } from '../../src/sweep/results.js';
import { freshTrial, type SweepRecord, type TrialRecord } from '../../src/sweep/state.js';
import { parseEpochLines } from '../../src/sweep/trial-process.js';

function trial(config: string, seed: number, finalValAcc: number | null, state: TrialRecord['state'] = 'done', arm = 'a'): TrialRecord {
  return {
    ...freshTrial({ id: `${config}-s${seed}`, config, arm, seed }),
    state,
    attempts: 1,
    result: state === 'done' ? { finalValAcc, bestValAcc: finalValAcc, finalTestAcc: null, epochs: 3, trainSeconds: 1.5 } : null,
    error: state === 'failed' ? 'mono run exited 3: loss became NaN in phase p1, epoch 1, step 2' : null,
  };
}

function record(trials: TrialRecord[], configs: SweepRecord['configs'], arms = ['a']): SweepRecord {
  return {
    format: 1,
    id: 'sw1',
    name: 'demo',
    createdAt: '',
    source: { kind: 'args', argv: [] },
    backend: null,
    queue: null,
    arms: arms.map((name) => ({ name, planFile: `/p/${name}.mono`, planSource: '', planSha256: '', params: ['lr'] })),
    configs,
    trials,
  };
}

const configs = [
  { id: 'c1', arm: 'a', set: { lr: '0.1', width: '2' }, epochs: 3 },
  { id: 'c2', arm: 'a', set: { lr: '0.01', width: '2' }, epochs: 3 },
  { id: 'c3', arm: 'a', set: { lr: '1', width: '2' }, epochs: 3 },
];

describe('sweep results', () => {
  it('reads a trial from its metrics lines: final, best, test accuracy and training seconds', () => {
    const text = [
      JSON.stringify({ phase: 'p1', epoch: 1, epochs: 2, val_acc: 0.5, test_acc: null, seconds: 1 }),
      JSON.stringify({ phase: 'p1', epoch: 2, epochs: 2, val_acc: 0.8, test_acc: 0.75, seconds: 2 }),
      JSON.stringify({ phase: 'p2', epoch: 1, epochs: 1, val_acc: 0.7, test_acc: null, seconds: 0.5 }),
      '{"phase": "p2", "epo', // a line still being written
    ].join('\n');
    expect(trialResultOf(parseEpochLines(text))).toEqual({ finalValAcc: 0.7, bestValAcc: 0.8, finalTestAcc: 0.75, epochs: 3, trainSeconds: 3.5 });
  });

  it('ranks configurations by mean final accuracy over seeds, complete ones first', () => {
    const r = record([trial('c1', 1, 0.9), trial('c1', 2, 0.8), trial('c2', 1, 0.95), trial('c2', 2, 0.93), trial('c3', 1, 0.99), trial('c3', 2, null, 'failed')], configs);
    const summaries = summarizeConfigs(r);
    expect(summaries.map((s) => s.config)).toEqual(['c2', 'c1', 'c3']);
    expect(summaries[0]!.finalValAcc!.mean).toBeCloseTo(0.94, 12);
    expect(summaries[0]!.finalValAcc!.std).toBeCloseTo(Math.SQRT2 * 0.01, 12);
    expect(summaries[2]).toMatchObject({ done: 1, failed: 1, trials: 2, errors: ['mono run exited 3: loss became NaN in phase p1, epoch 1, step 2'] });
  });

  it('writes one CSV line per trial with the configuration\'s params', () => {
    const lines = resultsCsv(record([trial('c1', 1, 0.9), trial('c3', 2, null, 'failed')], configs)).trim().split('\n');
    expect(lines[0]).toBe('trial,arm,config,lr,width,seed,state,final_val_acc,best_val_acc,final_test_acc,epochs,train_seconds,wall_seconds,attempts,resumes,worker,error');
    expect(lines[1]).toBe('c1-s1,a,c1,0.1,2,1,done,0.9,0.9,,3,1.5,0,1,0,,');
    expect(lines[2]).toBe('c3-s2,a,c3,1,2,2,failed,,,,0,,0,1,0,,"mono run exited 3: loss became NaN in phase p1, epoch 1, step 2"');
  });

  it('tables mean ± std (min-max) per configuration, the best first, with the varied params only', () => {
    const md = resultsMarkdown(record([trial('c1', 1, 0.9), trial('c1', 2, 0.8), trial('c2', 1, 0.95), trial('c2', 2, 0.93), trial('c3', 1, 0.99), trial('c3', 2, null, 'failed')], configs));
    expect(md).toContain('over seeds 1, 2; the best configuration first. 6 trials, 3 configurations.');
    expect(md).toContain('| 1 | c2: lr=0.01 | 2 | 94.0 ± 1.4 (93.0-95.0) |');
    expect(md).toContain('| 2 | c1: lr=0.1 | 2 | 85.0 ± 7.1 (80.0-90.0) |');
    expect(md).toContain('| 3 | c3: lr=1 | 1/2 done, 1 failed | 99.0 |');
    expect(md).toContain('- c3 (lr=1): mono run exited 3: loss became NaN');
  });

  it('adds the best configuration of each arm when there are several', () => {
    const r = record(
      [trial('x1', 1, 0.5, 'done', 'x'), trial('x2', 1, 0.7, 'done', 'x'), trial('y1', 1, 0.6, 'done', 'y')],
      [
        { id: 'x1', arm: 'x', set: { lr: '1' }, epochs: 3 },
        { id: 'x2', arm: 'x', set: { lr: '2' }, epochs: 3 },
        { id: 'y1', arm: 'y', set: { lr: '3' }, epochs: 3 },
      ],
      ['x', 'y'],
    );
    const md = resultsMarkdown(r);
    const best = md.slice(md.indexOf('## Best configuration per arm'), md.indexOf('## All configurations'));
    expect(best).toContain('| 1 | x | x2: lr=2 | 1 | 70.0 |');
    expect(best).toContain('| 2 | y | y1: lr=3 | 1 | 60.0 |');
    expect(best).not.toContain('x1');
  });

  it('plots one row per configuration with an error bar, the best on top', () => {
    const svg = resultsPlot(record([trial('c1', 1, 0.9), trial('c1', 2, 0.8), trial('c2', 1, 0.95), trial('c2', 2, 0.93), trial('c3', 1, null, 'failed')], configs));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg.indexOf('>lr=0.01<')).toBeLessThan(svg.indexOf('>lr=0.1<'));
    expect(svg).toContain('no finished trial (1 failed)');
    // Each bar: a line from mean - std to mean + std and two end caps.
    expect(svg).toContain('94.0% ± 1.4 (n=2)');
  });

  it('formats spreads and handles none', () => {
    expect(spread([])).toBeNull();
    expect(formatSpread(null)).toBe('-');
    expect(formatSpread(spread([0.5]))).toBe('50.0');
  });
});
