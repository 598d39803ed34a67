/** The phase timeline (inline SVG): each phase as a bar over its epochs, the completed ones filled. */
import { PALETTE } from '../../plot/index.js';
import { absent, escapeHtml, section } from '../html.js';
import type { RunRecord } from '../types.js';
import { phaseSpans, plannedEpochs } from './phases.js';

const WIDTH = 760;
const LEFT = 10;
const RIGHT = 10;

export function timelineSvg(run: RunRecord): string {
  const spans = phaseSpans(run);
  const epochs = Math.max(1, plannedEpochs(run));
  const done = run.metrics.length;
  const unit = (WIDTH - LEFT - RIGHT) / epochs;
  const partitions = [...new Set(spans.map((s) => s.partition ?? 'all'))];
  const out: string[] = [];
  for (const span of spans) {
    const x = LEFT + (span.first - 1) * unit;
    const width = (span.last - span.first + 1) * unit;
    const color = span.partition === null ? '#555555' : PALETTE[partitions.indexOf(span.partition) % PALETTE.length]!;
    const completed = Math.max(0, Math.min(span.last, done) - span.first + 1);
    const title = `${span.name}: epochs ${span.first}-${span.last}, loss from ${span.head}; ${completed} of ${span.last - span.first + 1} done`;
    out.push(
      `<g class="phase" data-phase="${escapeHtml(span.name)}"><title>${escapeHtml(title)}</title>`,
      `<rect x="${x.toFixed(1)}" y="24" width="${width.toFixed(1)}" height="28" fill="${color}" fill-opacity="0.15" stroke="${color}"/>`,
      completed > 0 ? `<rect x="${x.toFixed(1)}" y="24" width="${(completed * unit).toFixed(1)}" height="28" fill="${color}" fill-opacity="0.55"/>` : '',
      `<text x="${(x + 4).toFixed(1)}" y="43">${escapeHtml(span.name)}</text>`,
      `<text x="${(x + 4).toFixed(1)}" y="68" fill="#555">${escapeHtml(`${span.first}–${span.last} · ${span.head}`)}</text>`,
      '</g>',
    );
  }
  return [
    `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="80" viewBox="0 0 ${WIDTH} 80" font-family="sans-serif" font-size="12" role="img" aria-label="phase timeline">`,
    `<text x="${LEFT}" y="15" fill="#333">${escapeHtml(`${done} of ${epochs} epochs done`)}</text>`,
    ...out.filter((line) => line !== ''),
    '</svg>',
  ].join('\n');
}

export function timelineSection(run: RunRecord): string {
  if (run.ir === null && run.metrics.length === 0) return section('timeline', 'Phases', absent('No phases: ir.json and metrics.jsonl are missing or empty.'));
  return section('timeline', 'Phases', `<div class="scroll">${timelineSvg(run)}</div>\n<p class="note">Epochs across phases; the filled part of a bar is done. Each phase starts a fresh optimizer and schedules.</p>`);
}
