/**
 * A diagram of the network (inline SVG): the input, each partition as a box of its
 * sections (output shape and parameters), left to right, the network's output
 * after the last, and each proxy head hanging below its partition.
 */
import type { IR } from '../../ir/types.js';
import { PALETTE } from '../../plot/index.js';
import { formatCount, formatShape, summarizeIR } from '../../summary/index.js';
import { absent, escapeHtml, section } from '../html.js';
import type { RunRecord } from '../types.js';

const BOX_WIDTH = 190;
const GAP = 46;
const ROW = 18;
const TOP = 24;

/** Text in the diagram, escaped, clipped to `max` characters (the full text is in the tables). */
function label(text: string, max = 26): string {
  return escapeHtml(text.length > max ? `${text.slice(0, max - 1)}…` : text);
}

export function networkSvg(ir: IR, idPrefix = 'net'): string {
  const arrowId = `${idPrefix}-arrow`;
  const summary = summarizeIR(ir);
  const sectionsByName = new Map(summary.sections.map((s) => [s.name, s]));
  const out: string[] = [];
  const bodyRows = Math.max(...summary.partitions.map((p) => p.sections.length));
  const boxHeight = 28 + ROW * (bodyRows + 1);
  const headTop = TOP + boxHeight + 40;
  const headHeight = 28 + ROW * 2;
  const anyHead = summary.partitions.some((p) => p.head);
  const height = (anyHead ? headTop + headHeight : TOP + boxHeight) + 16;
  let x = 10;
  const ioBox = (text: string, sub: string, at: number) => {
    out.push(
      `<rect x="${at}" y="${TOP + boxHeight / 2 - 22}" width="96" height="44" rx="6" fill="#f4f4f4" stroke="#666"/>`,
      `<text x="${at + 48}" y="${TOP + boxHeight / 2 - 5}" text-anchor="middle" font-weight="bold">${label(text)}</text>`,
      `<text x="${at + 48}" y="${TOP + boxHeight / 2 + 12}" text-anchor="middle">${label(sub, 14)}</text>`,
    );
  };
  const arrow = (from: number, to: number, y: number) => out.push(`<line x1="${from}" y1="${y}" x2="${to - 4}" y2="${y}" stroke="#444" stroke-width="1.5" marker-end="url(#${arrowId})"/>`);
  ioBox('input', formatShape(summary.input), x);
  x += 96;
  summary.partitions.forEach((partition, i) => {
    arrow(x, x + GAP, TOP + boxHeight / 2);
    x += GAP;
    const color = PALETTE[i % PALETTE.length]!;
    out.push(
      `<g class="partition" data-partition="${escapeHtml(partition.name)}">`,
      `<rect x="${x}" y="${TOP}" width="${BOX_WIDTH}" height="${boxHeight}" rx="8" fill="${color}" fill-opacity="0.10" stroke="${color}" stroke-width="2"/>`,
      `<text x="${x + 10}" y="${TOP + 20}" font-weight="bold">${label(partition.name, 14)}</text>`,
      `<text x="${x + BOX_WIDTH - 10}" y="${TOP + 20}" text-anchor="end">${label(formatCount(partition.params) + ' params', 16)}</text>`,
    );
    partition.sections.forEach((name, row) => {
      const info = sectionsByName.get(name);
      const shape = info ? formatShape(info.outputShape) : '';
      out.push(`<text x="${x + 10}" y="${TOP + 40 + row * ROW}">${label(name, 14)}</text>`, `<text x="${x + BOX_WIDTH - 10}" y="${TOP + 40 + row * ROW}" text-anchor="end" fill="#555">${label(shape, 14)}</text>`);
    });
    out.push('</g>');
    if (partition.head) {
      const cx = x + BOX_WIDTH / 2;
      out.push(
        `<g class="head" data-head="${escapeHtml(partition.head.name)}">`,
        `<line x1="${cx}" y1="${TOP + boxHeight}" x2="${cx}" y2="${headTop - 4}" stroke="${color}" stroke-width="1.5" stroke-dasharray="5 3" marker-end="url(#${arrowId})"/>`,
        `<rect x="${x + 15}" y="${headTop}" width="${BOX_WIDTH - 30}" height="${headHeight}" rx="6" fill="#ffffff" stroke="${color}" stroke-dasharray="5 3" stroke-width="1.5"/>`,
        `<text x="${cx}" y="${headTop + 18}" text-anchor="middle" font-weight="bold">${label(`proxy ${partition.head.name}`)}</text>`,
        `<text x="${cx}" y="${headTop + 36}" text-anchor="middle">${label(`${partition.head.declaration}, ${formatCount(partition.head.params)} params`)}</text>`,
        `<text x="${cx}" y="${headTop + 52}" text-anchor="middle" fill="#555">${label(`-> ${formatShape(partition.head.outputShape)}`)}</text>`,
        '</g>',
      );
    }
    x += BOX_WIDTH;
  });
  arrow(x, x + GAP, TOP + boxHeight / 2);
  x += GAP;
  ioBox('output', `${summary.classes} classes`, x);
  x += 96 + 10;
  return [
    `<svg class="network" xmlns="http://www.w3.org/2000/svg" width="${x}" height="${height}" viewBox="0 0 ${x} ${height}" font-family="sans-serif" font-size="12" role="img" aria-label="network diagram">`,
    `<defs><marker id="${arrowId}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>`,
    ...out,
    '</svg>',
  ].join('\n');
}

export function networkSection(run: RunRecord, idPrefix: string): string {
  if (!run.ir) return section('network', 'Network', absent('No diagram: ir.json is missing or damaged.'));
  return section(
    'network',
    'Network',
    `<div class="scroll">${networkSvg(run.ir, idPrefix)}</div>\n<p class="note">Partitions left to right, each with its sections and their output shapes; a dashed box is a partition's proxy head, which trains it in its own phase. The last partition trains through the network's output.</p>`,
  );
}
