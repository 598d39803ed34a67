/**
 * The glob of LrMultiplier.pattern, shared by the compiler (which warns when a
 * pattern matches nothing) and the optimizer (which applies it): `*` matches any
 * run of characters, `?` one character; everything else is literal.
 */
export function globToRegExp(pattern: string): RegExp {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

export function globMatch(pattern: string, text: string): boolean {
  return globToRegExp(pattern).test(text);
}
