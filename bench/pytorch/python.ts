/**
 * Finding a Python that has PyTorch, and talking to bench/pytorch_replica.py as a
 * child process: one JSON request per line on its stdin, one JSON answer per line
 * on its stdout; its stderr (progress lines) goes to ours.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPLICA_SCRIPT = fileURLToPath(new URL('../pytorch_replica.py', import.meta.url));

export const INSTALL_HINT =
  'install it with `sudo apt-get install python3-torch libopenblas0-pthread` (Debian/Ubuntu; without ' +
  'libopenblas0-pthread Debian\'s torch falls back to the slow reference BLAS), or point MONO_PYTHON at a python that has torch';

export interface PythonProbe {
  python: string;
  /** torch.__version__ when it imports. */
  torch?: string;
  problem?: string;
}

/** Pythons to try: MONO_PYTHON alone when set; otherwise Debian's /usr/bin/python3 (pyenv shims shadow it), then python3. */
export function pythonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const chosen = env['MONO_PYTHON'];
  if (chosen) return [chosen];
  return ['/usr/bin/python3', 'python3'];
}

export function probePython(python: string): PythonProbe {
  const result = spawnSync(python, ['-c', 'import numpy, torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (result.error) return { python, problem: result.error.message };
  if (result.status !== 0) {
    const lastLine = result.stderr.trim().split('\n').pop() ?? `exit ${result.status}`;
    return { python, problem: lastLine };
  }
  return { python, torch: result.stdout.trim() };
}

/** The first candidate that imports torch, or every probe with its problem. */
export function findTorchPython(env: NodeJS.ProcessEnv = process.env): { found?: PythonProbe; probes: PythonProbe[] } {
  const probes: PythonProbe[] = [];
  for (const python of pythonCandidates(env)) {
    const probe = probePython(python);
    probes.push(probe);
    if (probe.torch) return { found: probe, probes };
  }
  return { probes };
}

/**
 * The replica's environment: one OpenMP thread until a request asks for more, and glibc
 * malloc told to keep blocks up to 32 MiB on its heap instead of giving them back
 * to the system after every use. Without that, every large activation is fresh mmap'd
 * memory whose page faults are slow here: measured on the quickstart's 1,000 hold-out
 * digits, 2.3-2.9 s per evaluation instead of 0.23 s, and 190 ms instead of 1 ms for
 * one ReLU over 250x16x28x28 floats. (Values already in the environment win.)
 */
export function replicaEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    OMP_NUM_THREADS: '1',
    MALLOC_MMAP_THRESHOLD_: '33554432',
    MALLOC_TRIM_THRESHOLD_: '268435456',
    MALLOC_TOP_PAD_: '67108864',
    ...env,
  };
}

export class ReplicaError extends Error {
  constructor(
    message: string,
    readonly unsupported: boolean,
  ) {
    super(message);
  }
}

interface Answer {
  ok: boolean;
  result?: unknown;
  error?: string;
  trace?: string;
  unsupported?: boolean;
}

/** The replica server; requests are answered in order, one at a time. */
export class ReplicaProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly answers: ((line: string) => void)[] = [];
  private exited: string | undefined;

  constructor(python: string, env: NodeJS.ProcessEnv = replicaEnv()) {
    this.child = spawn(python, [REPLICA_SCRIPT, 'serve'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    createInterface({ input: this.child.stdout }).on('line', (line) => this.answers.shift()?.(line));
    this.child.on('exit', (code, signal) => {
      this.exited = `the PyTorch replica exited (${signal ?? `code ${code}`})`;
      for (const waiting of this.answers.splice(0)) waiting(JSON.stringify({ ok: false, error: this.exited }));
    });
  }

  request<T>(request: Record<string, unknown>): Promise<T> {
    if (this.exited) return Promise.reject(new ReplicaError(this.exited, false));
    return new Promise<T>((resolve, reject) => {
      this.answers.push((line) => {
        let answer: Answer;
        try {
          answer = JSON.parse(line) as Answer;
        } catch {
          reject(new ReplicaError(`the PyTorch replica answered something that is not JSON: ${line.slice(0, 200)}`, false));
          return;
        }
        if (answer.ok) resolve(answer.result as T);
        else reject(new ReplicaError(`${answer.error ?? 'failed'}${answer.trace ? `\n${answer.trace}` : ''}`, answer.unsupported === true));
      });
      this.child.stdin.write(JSON.stringify(request) + '\n');
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end(JSON.stringify({ cmd: 'quit' }) + '\n');
    await done;
  }
}
