/** Runs `main` in-process with captured streams: fast, and exit codes come back as numbers. */
import { Writable } from 'node:stream';
import type { CommandIO } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export async function mono(args: string[], { cwd = process.cwd(), env = {} as NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(args, { stdout, stderr, cwd, env });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Captured streams for calling one command's `run` directly, with the cwd given. */
export function captureIO(cwd: string): { io: CommandIO; out: () => string; err: () => string } {
  const stdout = new Capture();
  const stderr = new Capture();
  return { io: { stdout, stderr, cwd, env: {} }, out: () => stdout.text, err: () => stderr.text };
}
