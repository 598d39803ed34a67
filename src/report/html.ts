/** HTML text helpers: escaping, and JSON that is safe inside a <script> element. */

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * JSON for a `<script type="application/json">` element: `<` is written as \u003c
 * so no value (a phase or file name) can close the element, and U+2028/U+2029 as
 * escapes so the text stays valid JavaScript too.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A table with a header row; cells are HTML already (escape text before). */
export function htmlTable(header: readonly string[], rows: readonly (readonly string[])[], className = ''): string {
  const head = `<tr>${header.map((cell) => `<th>${cell}</th>`).join('')}</tr>`;
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('\n');
  return `<table${className ? ` class="${className}"` : ''}><thead>${head}</thead><tbody>\n${body}\n</tbody></table>`;
}

/** A section of the page with an id (the table of contents links to it) and a heading. */
export function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${escapeHtml(title)}</h2>\n${body}\n</section>`;
}

/** A note that something is absent, and why. */
export function absent(text: string): string {
  return `<p class="absent">${escapeHtml(text)}</p>`;
}
