/**
 * Starts the two registries under test on a free loopback port with fresh filesystem storage in a
 * temp dir: Wharf (`node dist/src/main.js serve` with the settings of its first line, REGISTRY_*
 * overrides) and, when `docker-registry` is on PATH, distribution's registry with a generated
 * config.yml.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { distributionConfig } from '../test/helpers/distribution.js';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';

export type ServerKind = 'wharf' | 'distribution';

export const WHARF_MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

/** How a script's `#!/usr/bin/env -S NAME=value... node flags...` line starts it. */
export interface LaunchLine {
  readonly env: Record<string, string>;
  readonly nodeArgs: string[];
}

/**
 * Reads the launch settings from the entry point's first line, so the bench runs Wharf exactly as
 * the `wharf` bin and `npm start` do (see src/main.ts); `${NAME}` takes `NAME` from `env`, as
 * env(1) -S does.
 */
export function launchLine(script: string, env: NodeJS.ProcessEnv = process.env): LaunchLine {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
  const match = /^#!\/usr\/bin\/env -S (.*)$/.exec(first);
  if (!match) throw new Error(`${script} does not start with #!/usr/bin/env -S`);
  const words = match[1]!.trim().split(/\s+/);
  const node = words.indexOf('node');
  if (node < 0) throw new Error(`${script}'s first line does not run node`);
  const assignments: Record<string, string> = {};
  for (const word of words.slice(0, node)) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new Error(`${script}'s first line has ${word} before node`);
    assignments[word.slice(0, eq)] = word.slice(eq + 1).replace(/\$\{(\w+)\}/g, (_, name: string) => env[name] ?? '');
  }
  return { env: assignments, nodeArgs: words.slice(node + 1) };
}

export interface RunningServer {
  readonly kind: ServerKind;
  readonly pid: number;
  readonly url: string;
  readonly root: string;
  /** The temp dir holding the storage (and distribution's config); see removeInBackground. */
  readonly dir: string;
  /** SIGTERM, then SIGKILL after 15 s. */
  stop(): Promise<void>;
}

export function distributionPath(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v docker-registry'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

export function distributionVersion(): string | undefined {
  const out = spawnSync('docker-registry', ['--version'], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function ping(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/v2/`, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(1000, () => req.destroy());
  });
}

export interface StartOptions {
  /** Directory for `--cpu-prof` output; Wharf only. */
  readonly profileDir?: string;
}

export async function startServer(kind: ServerKind, options: StartOptions = {}): Promise<RunningServer> {
  const dir = await mkdtemp(`${STORAGE_PREFIX}${kind}-`);
  const root = join(dir, 'storage');
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  let child: ChildProcess;
  if (kind === 'wharf') {
    // Run Wharf as `npm start` and the `wharf` bin do (see src/main.ts).
    // BENCH_WHARF_NODE_ARGS: extra node flags for experiments (later flags win: `--max-semi-space-size=8`).
    const launch = launchLine(WHARF_MAIN);
    const extra = (process.env.BENCH_WHARF_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '');
    const nodeArgs = [...launch.nodeArgs, ...extra, ...(options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`])];
    child = spawn(process.execPath, [...nodeArgs, WHARF_MAIN, 'serve'], {
      env: {
        ...process.env,
        ...launch.env,
        REGISTRY_HTTP_ADDR: addr,
        REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root,
        REGISTRY_STORAGE_DELETE_ENABLED: 'true',
        REGISTRY_LOG_ACCESSLOG_DISABLED: 'true',
        REGISTRY_LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } else {
    const config = join(dir, 'config.yml');
    await writeFile(config, distributionConfig(root, addr));
    child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env } });
  }
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 20_000) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => (dead = true));
  const url = `http://${addr}`;
  const deadline = Date.now() + 20_000;
  while ((await ping(url)) !== 200) {
    if (dead) throw new Error(`${kind} exited before answering: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${kind} did not answer /v2/ within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (child.pid === undefined) throw new Error(`${kind}: no pid`);
  return {
    kind,
    pid: child.pid,
    url,
    root,
    dir,
    stop: async () => {
      if (!dead) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Where the servers' temp dirs are made, each named `${STORAGE_PREFIX}<kind>-XXXXXX`. */
export const STORAGE_PREFIX = join(tmpdir(), 'wharf-bench-');

/** Deletes the servers' temp dirs with a detached `rm -rf` that outlives the harness. */
export function removeInBackground(dirs: readonly string[]): void {
  if (dirs.length === 0) return;
  spawn('rm', ['-rf', '--', ...dirs], { detached: true, stdio: 'ignore' }).unref();
}

/** Processes now deleting an earlier run's storage: `rm` with an argument under `prefix`. */
export function backgroundRemovals(prefix = STORAGE_PREFIX): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0');
    } catch {
      continue; // gone already
    }
    if (basename(argv[0] ?? '') === 'rm' && argv.slice(1).some((arg) => arg.startsWith(prefix))) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Waits until no earlier run's storage is being deleted: that `rm` can take minutes of disk and
 * CPU after a full run (tens of thousands of small files), and a run started behind it shares the
 * machine with it. Gives up after `limitMs` and returns how long it waited. `prefix` is where the
 * storage lies (STORAGE_PREFIX; tests give one of their own).
 */
export async function waitForBackgroundRemovals(
  log: (line: string) => void,
  { prefix = STORAGE_PREFIX, limitMs = 15 * 60_000 }: { prefix?: string; limitMs?: number } = {},
): Promise<number> {
  const t0 = performance.now();
  let pids = backgroundRemovals(prefix);
  if (pids.length === 0) return 0;
  log(`waiting for an earlier run's storage to be deleted (rm, pid ${pids.join(', ')})`);
  while (pids.length > 0 && performance.now() - t0 < limitMs) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    pids = backgroundRemovals(prefix);
  }
  const waited = performance.now() - t0;
  log(pids.length > 0 ? `    still deleting after ${(waited / 1000).toFixed(0)} s: measuring anyway` : `    waited ${(waited / 1000).toFixed(1)} s`);
  return waited;
}
