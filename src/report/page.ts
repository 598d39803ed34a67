/** The page around the sections: styles and the one inline script (no network, no external file). */
import { escapeHtml, scriptJson } from './html.js';

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: #24292f; color: #fff; padding: 14px 24px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 2px 0; color: #d0d7de; }
header label { color: #d0d7de; }
nav { padding: 8px 24px; background: #eaeef2; position: sticky; top: 0; z-index: 1; }
nav a { margin-right: 14px; color: #0969da; text-decoration: none; }
main { padding: 8px 24px 40px; max-width: 1600px; }
section { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 18px 14px; margin: 16px 0; }
h2 { font-size: 18px; margin: 8px 0 10px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f5f7; }
table.confusion td.cell { text-align: right; min-width: 2.5em; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure.chart { margin: 0; flex: 1 1 520px; max-width: 780px; }
figure.chart svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption, .note { font-size: 12px; color: #57606a; }
.absent { color: #8c6d1f; background: #fff8e5; border-left: 3px solid #d4a72c; padding: 6px 10px; }
.problems li { color: #8c6d1f; }
.bad { color: #cf222e; }
.scroll { overflow-x: auto; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; font-size: 13px; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
pre.source { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 12px; }
details.run > summary { font-size: 18px; font-weight: 600; cursor: pointer; margin: 10px 0; }
`;

/**
 * Reloads the page every 30 s while "refresh" is ticked (the run rewrites the file
 * after every epoch); ticked by default while the run has epochs to go. The choice
 * is kept for the tab (sessionStorage), where the browser allows it.
 */
const SCRIPT = `
(function () {
  var box = document.getElementById('auto-refresh');
  if (!box) return;
  var key = 'mono-report-refresh:' + location.pathname;
  try {
    var saved = window.sessionStorage.getItem(key);
    if (saved !== null) box.checked = saved === '1';
  } catch (e) { /* storage refused (some browsers on file://): the default stays */ }
  var timer = null;
  function schedule() {
    if (timer !== null) clearTimeout(timer);
    timer = box.checked ? setTimeout(function () { location.reload(); }, 30000) : null;
  }
  box.addEventListener('change', function () {
    try { window.sessionStorage.setItem(key, box.checked ? '1' : '0'); } catch (e) { /* as above */ }
    schedule();
  });
  schedule();
  var data = JSON.parse(document.getElementById('mono-report-data').textContent);
  var done = data.runs.reduce(function (sum, run) { return sum + run.epochsDone; }, 0);
  document.documentElement.setAttribute('data-epochs-done', String(done));
})();
`;

export interface PageParts {
  title: string;
  /** Lines under the title (HTML). */
  subtitle: string[];
  /** Table of contents: [section id, label]. */
  contents: [string, string][];
  body: string;
  /** Whether the auto-refresh box starts ticked. */
  refresh: boolean;
  /** Embedded for readers and tools (scriptJson-escaped). */
  data: unknown;
}

export function renderPage(parts: PageParts): string {
  const nav = parts.contents.map(([id, text]) => `<a href="#${escapeHtml(id)}">${escapeHtml(text)}</a>`).join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="mono report">
<title>${escapeHtml(parts.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(parts.title)}</h1>
${parts.subtitle.map((line) => `<p>${line}</p>`).join('\n')}
<p><label><input type="checkbox" id="auto-refresh"${parts.refresh ? ' checked' : ''}> reload every 30 s (the run rewrites this file after every epoch)</label></p>
</header>
<nav>${nav}</nav>
<main>
${parts.body}
</main>
<script type="application/json" id="mono-report-data">${scriptJson(parts.data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
