/** Checks that a source range lies inside a text and that its line:col agree with its offsets. */
import type { Position, SourceRange } from '../../src/syntax/location.js';

export function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    const c = text[i];
    if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset, line, column: offset - lineStart + 1 };
}

/** A description of what is wrong with `range` for `text`, or undefined when it is fine. */
export function rangeProblem(text: string, range: SourceRange): string | undefined {
  const { start, end } = range;
  if (!(start.offset >= 0 && start.offset <= end.offset && end.offset <= text.length)) {
    return `offsets ${start.offset}..${end.offset} outside 0..${text.length}`;
  }
  const expectedStart = positionAt(text, start.offset);
  if (expectedStart.line !== start.line || expectedStart.column !== start.column) {
    return `start ${start.line}:${start.column} should be ${expectedStart.line}:${expectedStart.column}`;
  }
  const expectedEnd = positionAt(text, end.offset);
  if (expectedEnd.line !== end.line || expectedEnd.column !== end.column) {
    return `end ${end.line}:${end.column} should be ${expectedEnd.line}:${expectedEnd.column}`;
  }
  return undefined;
}
