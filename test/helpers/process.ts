/**
 * Runs the real Wharf (`dist/src/main.js serve`) as a child process on a free loopback port, and
 * runs external programs (skopeo, podman, ...) with a clear failure when one is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export interface WharfProcess {
  readonly child: ChildProcess;
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly url: string;
  /** Every log line so far, parsed. */
  readonly logs: Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts Wharf with the given environment (REGISTRY_* overrides) and optional config file. */
export async function startWharfProcess(env: Record<string, string>, configFile?: string): Promise<WharfProcess> {
  const args = [MAIN, 'serve', ...(configFile === undefined ? [] : [configFile])];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, REGISTRY_HTTP_ADDR: '127.0.0.1:0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const address = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry['msg'] === 'listening' && typeof entry['address'] === 'string') resolve(entry['address']);
      } catch {
        // not a JSON log line
      }
    });
    void exited.then((code) => reject(new Error(`wharf exited with ${code} before listening: ${stderr}`)));
    setTimeout(() => reject(new Error(`wharf did not start within 20 s: ${stderr}`)), 20_000).unref();
  });
  return {
    child,
    host: address,
    url: `http://${address}`,
    logs,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Fails loudly, naming the Debian package, when a program the tests need is missing. */
export function requireProgram(program: string, debianPackage = program): void {
  const found = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  if (found.status !== 0) {
    throw new Error(`${program} is not installed: install the Debian package "${debianPackage}" (apt-get install -y ${debianPackage}); .ci/run does this`);
  }
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to completion, capturing its output. */
export function run(program: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a program and throws with its output unless it exits 0. */
export async function runOk(program: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const result = await run(program, args, options);
  if (result.code !== 0) throw new Error(`${program} ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}
