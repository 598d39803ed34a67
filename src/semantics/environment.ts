import type { Value } from './values.js';

/**
 * Names visible while evaluating: block parameters over plan params. A plan
 * param read through a frame with `relocate` takes the reference's location, so
 * that an error points at the use; a block parameter keeps its call-site location.
 */
export class Environment {
  private readonly values = new Map<string, Value>();

  constructor(
    readonly parent: Environment | undefined,
    readonly relocate: boolean,
  ) {}

  define(name: string, value: Value): void {
    this.values.set(name, value);
  }

  lookup(name: string): { value: Value; relocate: boolean } | undefined {
    for (let env: Environment | undefined = this; env; env = env.parent) {
      const value = env.values.get(name);
      if (value !== undefined) return { value, relocate: env.relocate };
    }
    return undefined;
  }

  /** Every visible name, innermost first (for did-you-mean). */
  names(): string[] {
    const names: string[] = [];
    for (let env: Environment | undefined = this; env; env = env.parent) names.push(...env.values.keys());
    return names;
  }
}
