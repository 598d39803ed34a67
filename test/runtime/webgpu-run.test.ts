// A whole run on webgpu: the quickstart at reduced size (64 digits, 32 held out, one
// epoch per phase) trains through `mono run --backend webgpu` with per-epoch training
// and hold-out losses equal to the wasm backend's within 1e-3 relative.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_OK } from '../../src/cli/command.js';
import { mono } from '../cli/harness.js';
import { skipWithoutWebgpu } from '../support/webgpu.js';

const skip = skipWithoutWebgpu();
const folder = mkdtempSync(path.join(os.tmpdir(), 'mono-webgpu-run-'));

/** plans/quickstart.mono with 64 training digits, 32 held out, batch 32, one epoch of fine-tuning. */
function reducedQuickstart(): string {
  const source = readFileSync('plans/quickstart.mono', 'utf8');
  const reduced = source
    .replace('  batch 64\n  holdout 1000\n', '  batch 32\n  holdout 32\n  limit 64\n')
    .replace('finetune all for 4 epochs', 'finetune all for 1 epochs');
  expect(reduced).not.toBe(source);
  expect(reduced).toContain('limit 64');
  expect(reduced).toContain('finetune all for 1 epochs');
  return reduced;
}

interface EpochLosses { phase: string; loss: number; val_loss: number }

async function runOn(backend: string, plan: string): Promise<EpochLosses[]> {
  const out = path.join(folder, backend);
  // MONO_DATA: an empty cache, so no bench measurement of this machine changes the output.
  const result = await mono(['run', plan, '--backend', backend, '--set', 'phase_epochs=1', '--out', out], { cwd: process.cwd(), env: { MONO_DATA: folder } });
  expect(result.stdout + result.stderr).toContain(`on ${backend}`);
  expect(result.code, result.stderr).toBe(EXIT_OK);
  return readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as EpochLosses);
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

describe.skipIf(skip)('a whole run on webgpu', () => {
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('trains the reduced quickstart with the per-epoch losses of wasm (within 1e-3 relative)', async () => {
    const plan = path.join(folder, 'quickstart-reduced.mono');
    writeFileSync(plan, reducedQuickstart());
    const webgpu = await runOn('webgpu', plan);
    const wasm = await runOn('wasm', plan);
    expect(webgpu.map((m) => m.phase)).toEqual(['p1', 'p2', 'p3', 'finetune']);
    expect(wasm.map((m) => m.phase)).toEqual(webgpu.map((m) => m.phase));
    webgpu.forEach((m, i) => {
      expect(relative(m.loss, wasm[i]!.loss), `${m.phase} loss ${m.loss} vs ${wasm[i]!.loss}`).toBeLessThan(1e-3);
      expect(relative(m.val_loss, wasm[i]!.val_loss), `${m.phase} val_loss ${m.val_loss} vs ${wasm[i]!.val_loss}`).toBeLessThan(1e-3);
    });
  }, 300_000);
});
