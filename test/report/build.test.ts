import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fc, test as property } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, looksLikeRunFolder, readRunRecord, type RunRecord } from '../../src/report/index.js';
import { tinyIR } from '../runtime/tiny-ir.js';
import { record, tinyLines, writeRunFolder } from './fixtures.js';

const build = (runs: RunRecord[], runPaths = runs.map(() => '')) => buildReport(runs, { generatedAt: new Date('2026-11-30T12:34:56Z'), runPaths });

/** Every id="..." in a document. */
const ids = (html: string) => [...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]!);
const count = (html: string, text: string) => html.split(text).length - 1;

/**
 * Anything the page would fetch or leave the file for: src/href/url() to a scheme, an
 * @import, a protocol-relative URL. The SVG namespace (an identifier, never fetched) is allowed.
 */
function externalReferences(html: string): string[] {
  const withoutNamespace = html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '');
  return [
    ...withoutNamespace.matchAll(/\b(?:src|href|action|srcset|poster)\s*=\s*["']?(?:[a-z][a-z0-9+.-]*:|\/\/)[^"'\s>]*/gi),
    ...withoutNamespace.matchAll(/url\(\s*["']?(?!#)[^)]*\)/gi),
    ...withoutNamespace.matchAll(/@import|https?:\/\//gi),
  ].map((m) => m[0]);
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-report-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('buildReport', () => {
  it('shows every section of a finished run: summary, diagram, timeline, curves, confusion matrix, files', () => {
    const html = build([record()]);
    for (const id of ['latest', 'curves', 'plan', 'network', 'timeline', 'confusion', 'files']) expect(html).toContain(`<section id="${id}">`);
    expect(html).toContain('4 of 4 epochs done · finished');
    // Loss, accuracy, lr, momentum, MI, ms per step, examples/s.
    expect(count(html, '<figure class="chart">')).toBe(7);
    // The network: both partitions, p1's proxy head; the timeline: both phases, all epochs filled.
    expect(count(html, '<g class="partition"')).toBe(2);
    expect(html).toContain('<g class="head" data-head="p1.head">');
    expect(count(html, '<g class="phase"')).toBe(2);
    expect(html).toContain('4 of 4 epochs done</text>');
    // The confusion matrix: its counts, recall of class 2 (17 of 20), accuracy 52/60.
    expect(html).toMatch(/<table class="confusion">[\s\S]*>17<\/td><td>85\.0%<\/td><\/tr>\n<\/tbody>/);
    expect(html).toContain('60 hold-out examples, accuracy 86.67%');
    // Memory per phase from src/summary/, the test accuracy of the last line.
    expect(html).toMatch(/<th>memory peak<\/th>/);
    expect(html).toContain('<td>80.00%</td>');
    // Links to the run's files, relative.
    expect(html).toContain('<a href="metrics.jsonl">metrics.jsonl</a>');
    expect(html).not.toContain('checked>'); // finished: no auto-reload
  });

  it('says when the confusion matrix is not of the last epoch in metrics.jsonl (an interrupted, resumed run)', () => {
    expect(build([record()])).not.toContain('the run was interrupted after that evaluation');
    expect(build([record({ metrics: tinyLines(3) })])).toContain('This matrix is of phase p2 epoch 2; metrics.jsonl ends at phase p2 epoch 1');
  });

  it('references nothing outside the file: no URL, no external script, style or font', () => {
    const html = build([record()]);
    expect(externalReferences(html)).toEqual([]);
    // The check itself finds what it should.
    expect(externalReferences('<img src="https://x.org/a.png"><a href="//cdn.x/y">')).toHaveLength(3);
    expect(externalReferences('<style>@import "a.css"</style><div style="background: url(a.png)">')).toHaveLength(2);
    expect(count(html, '<script')).toBe(2);
    expect(count(html, '<link')).toBe(0);
  });

  it('gives every element id once (inline charts each have their own clip path)', () => {
    for (const html of [build([record()]), build([record(), record({ name: 'tiny-2', dir: '/runs/tiny-2' })], ['a', 'b'])]) {
      const all = ids(html);
      expect(all.length).toBeGreaterThan(10);
      expect(all.filter((id, i) => all.indexOf(id) !== i)).toEqual([]);
      // Every url(#id) the SVGs use names an id of the page.
      for (const m of html.matchAll(/url\(#([^)]+)\)/g)) expect(all).toContain(m[1]);
    }
  });

  it('escapes names from the plan and the folder everywhere, also inside the embedded JSON', () => {
    const evil = `x</script><script>alert(1)</script><b onmouseover="y">'&`;
    const ir = tinyIR();
    ir.plan = evil;
    ir.phases[0]!.name = evil;
    ir.partitions[0]!.sections = [evil];
    const lines = tinyLines().map((l) => (l.phase === 'p1' ? { ...l, phase: evil, head: evil } : l));
    const html = build([record({ name: evil, metrics: lines, source: evil, info: { plan: evil, seed: 1, set: { w: evil }, backend: 'cpu', startedAt: evil }, files: [{ name: evil, bytes: 1 }], problems: [evil] }, ir)]);
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<b onmouseover');
    expect(count(html, '</script>')).toBe(2);
    expect(html).toContain('x&lt;/script&gt;&lt;script&gt;alert(1)');
    // A file name is escaped and percent-encoded in its link.
    expect(html).toContain(`href="x%3C%2Fscript%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E%3Cb%20onmouseover%3D%22y%22%3E&#39;%26"`);
    // The embedded JSON still reads back as the names.
    const json = /<script type="application\/json" id="mono-report-data">(.*?)<\/script>/s.exec(html)![1]!;
    const data = JSON.parse(json) as { runs: { name: string; metrics: { phase: string }[] }[] };
    expect(data.runs[0]!.name).toBe(evil);
    expect(data.runs[0]!.metrics[0]!.phase).toBe(evil);
  });

  property.prop([fc.string(), fc.string()])('no run or phase name can add or close an element', (runName, phaseName) => {
    const lines = tinyLines(2).map((l) => ({ ...l, phase: phaseName }));
    const html = build([record({ name: runName, metrics: lines, ir: null, confusion: null })]);
    expect(count(html, '<script')).toBe(2);
    expect(count(html, '</script>')).toBe(2);
    expect(count(html, '<section ')).toBe(count(html, '</section>'));
    expect(externalReferences(html)).toEqual([]);
  });

  it('reports a run that has not finished an epoch: every section says what is absent, auto-reload on', () => {
    const html = build([record({ metrics: [], confusion: null })]);
    expect(html).toContain('No epoch has completed yet: metrics.jsonl holds no line.');
    expect(html).toContain('0 of 4 epochs done');
    expect(html).toContain('id="auto-refresh" checked');
    expect(html).toContain('<g class="partition"'); // the plan is known: the diagram is there
  });

  it('overlays several runs: one curve per run, the first run open', () => {
    const second = record({ name: 'tiny-2', dir: '/runs/tiny-2', metrics: tinyLines(3) });
    const html = build([record(), second], ['../runs/tiny-1', '../runs/tiny-2']);
    expect(html).toContain('Curves of 2 runs');
    expect(html).toMatch(/>tiny-1 hold-out<\/text>/);
    expect(html).toMatch(/>tiny-2 hold-out<\/text>/);
    expect(html).toContain('<details class="run" id="run-1" open>');
    expect(html).toContain('<details class="run" id="run-2">');
    expect(html).toContain('<a href="../runs/tiny-2/metrics.jsonl">');
  });
});

describe('readRunRecord', () => {
  it('reads an empty folder as an empty record, not a run folder', async () => {
    const dir = path.join(root, 'empty');
    await mkdir(dir);
    const run = await readRunRecord(dir);
    expect(looksLikeRunFolder(run)).toBe(false);
    expect(run.problems).toEqual(['no run.json', 'no ir.json: no plan summary, network diagram or phases', 'no metrics.jsonl']);
    const html = build([run]);
    expect(html).toContain('No plan summary: ir.json is missing or damaged.');
    expect(html).toContain('No diagram: ir.json is missing or damaged.');
    expect(html).toContain('The run folder is empty.');
    expect(html).toContain('<li>no run.json</li>');
  });

  it('reads a crashed run folder: a partial last line and a damaged line left out and named, the rest shown', async () => {
    const dir = path.join(root, 'crashed');
    const lines = tinyLines(3);
    await writeRunFolder(dir, { lines, tail: '{"phase":"p2","epo' });
    // A damaged line between whole ones.
    const file = path.join(dir, 'metrics.jsonl');
    const text = (await readFile(file, 'utf8')).split('\n');
    text.splice(1, 0, 'not json');
    await writeFile(file, text.join('\n'));
    await writeFile(path.join(dir, 'run.lock'), '{}');
    await writeFile(path.join(dir, 'report.html.tmp'), 'half');
    const run = await readRunRecord(dir);
    expect(looksLikeRunFolder(run)).toBe(true);
    expect(run.metrics.map((l) => `${l.phase}/${l.epoch}`)).toEqual(['p1/1', 'p1/2', 'p2/1']);
    expect(run.problems).toEqual(['metrics.jsonl line 2 is not JSON (left out)', 'metrics.jsonl ends with a partial line (left out)']);
    expect(run.locked).toBe(true);
    expect(run.files.map((f) => f.name)).not.toContain('report.html.tmp');
    const html = build([run]);
    expect(html).toContain('3 of 4 epochs done');
    expect(html).not.toContain('href="run.lock"');
  });

  it.skipIf(!existsSync('/dev/full'))('reads only regular files: metrics.jsonl linked to a device is named, not read', async () => {
    const dir = path.join(root, 'device');
    await writeRunFolder(dir);
    await rm(path.join(dir, 'metrics.jsonl'));
    await symlink('/dev/full', path.join(dir, 'metrics.jsonl'));
    const run = await readRunRecord(dir);
    expect(run.metrics).toEqual([]);
    expect(run.problems).toEqual(['metrics.jsonl is not a regular file (left unread)']);
    expect(run.files.map((f) => f.name)).not.toContain('metrics.jsonl');
  });

  it('names a damaged ir.json and confusion.json and builds the rest', async () => {
    const dir = path.join(root, 'damaged');
    await writeRunFolder(dir);
    await writeFile(path.join(dir, 'ir.json'), '{"irVersion": 1}');
    await writeFile(path.join(dir, 'confusion.json'), '{"phase": "p1", "classes": 2, "counts": [[1]]}');
    const run = await readRunRecord(dir);
    expect(run.ir).toBeNull();
    expect(run.problems[0]).toMatch(/^ir\.json does not match the IR schema \(/);
    expect(run.problems[1]).toBe('confusion.json is not a square table of counts');
    const html = build([run]);
    // Without the IR the phases come from the metrics lines.
    expect(count(html, '<g class="phase"')).toBe(2);
    expect(html).toContain('no confusion.json');
  });
});
