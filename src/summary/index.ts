export { summarizeIR, describeOptimizer, describeSchedule } from './summarize.js';
export type { PlanSummary, SectionSummary, PartitionSummary, HeadSummary, PhaseSummary } from './summarize.js';
export { renderSummary } from './render.js';
export { formatBytes, formatCount, formatFlops, formatShape, formatValue } from './units.js';
