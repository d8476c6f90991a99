/**
 * containerd and the Docker engine (Debian's `containerd` and `docker.io`) for end-to-end tests,
 * each confined to a private temp directory: their own roots, state, sockets and configs, docker's
 * bridge and iptables off, vfs and native storage (no kernel mounts), and the CLIs pointed at them
 * (`ctr --address`, `DOCKER_HOST`, `DOCKER_CONFIG`), so nothing reads or changes the machine's
 * daemons. Both treat 127.0.0.0/8 registries as plain HTTP: ctr with `--plain-http`, dockerd by
 * default.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireProgram, run, runOk, type RunResult } from './process.js';

export interface ContainerDaemons {
  readonly dir: string;
  /** `ctr` in this containerd's namespace for the tests; throws unless it exits 0. */
  ctr(args: readonly string[]): Promise<string>;
  /** The docker CLI against this dockerd, with its own config (logins) directory. */
  docker(args: readonly string[]): Promise<string>;
  /** Either CLI, without throwing on failure. */
  raw(program: 'ctr' | 'docker', args: readonly string[]): Promise<RunResult>;
  /** The docker CLI's config file (what `docker login` stored). */
  readonly dockerConfig: string;
  stop(): Promise<void>;
}

const NAMESPACE = 'wharf-e2e';
const START_MS = 30_000;

interface Daemon {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  output(): string;
}

function daemon(program: string, args: readonly string[]): Daemon {
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited, output: () => output };
}

/** Polls `probe` until it exits 0; fails with the daemon's last output when it exits or times out. */
async function waitReady(name: string, d: Daemon, probe: () => Promise<RunResult>): Promise<void> {
  const deadline = Date.now() + START_MS;
  for (;;) {
    if (d.child.exitCode !== null || d.child.signalCode !== null) throw new Error(`${name} exited at start:\n${d.output()}`);
    if ((await probe()).code === 0) return;
    if (Date.now() > deadline) throw new Error(`${name} not ready within ${START_MS / 1000} s:\n${d.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stopDaemon(d: Daemon | undefined): Promise<void> {
  if (d === undefined || d.child.exitCode !== null || d.child.signalCode !== null) return;
  d.child.kill('SIGTERM');
  const killed = setTimeout(() => d.child.kill('SIGKILL'), 15_000);
  await d.exited;
  clearTimeout(killed);
}

/** Starts containerd, then dockerd on it, under `dir` (keep it short: unix socket paths are limited). */
export async function startContainerDaemons(dir: string): Promise<ContainerDaemons> {
  requireProgram('containerd');
  requireProgram('ctr', 'containerd');
  requireProgram('dockerd', 'docker.io');
  requireProgram('docker', 'docker.io');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const containerdSocket = join(dir, 'containerd.sock');
  const dockerSocket = join(dir, 'docker.sock');
  const dockerConfigDir = join(dir, 'docker-config');
  await mkdir(dockerConfigDir, { mode: 0o700 });
  const config = join(dir, 'containerd.toml');
  await writeFile(config, [
    'version = 2',
    `root = "${join(dir, 'containerd-root')}"`,
    `state = "${join(dir, 'containerd-state')}"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = "${containerdSocket}"`,
    '[ttrpc]',
    `  address = "${containerdSocket}.ttrpc"`,
    '',
  ].join('\n'));
  const daemonJson = join(dir, 'daemon.json');
  await writeFile(daemonJson, '{}\n');

  const ctrArgs = (args: readonly string[]) => ['--address', containerdSocket, '--namespace', NAMESPACE, ...args];
  const env = { DOCKER_HOST: `unix://${dockerSocket}`, DOCKER_CONFIG: dockerConfigDir };
  const raw = (program: 'ctr' | 'docker', args: readonly string[]): Promise<RunResult> =>
    program === 'ctr' ? run('ctr', ctrArgs(args)) : run('docker', args, { env });

  let containerd: Daemon | undefined;
  let dockerd: Daemon | undefined;
  const stop = async (): Promise<void> => {
    await stopDaemon(dockerd);
    await stopDaemon(containerd);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    containerd = daemon('containerd', ['--config', config]);
    await waitReady('containerd', containerd, () => run('ctr', ['--address', containerdSocket, 'version']));
    dockerd = daemon('dockerd', [
      '--config-file', daemonJson,
      '--data-root', join(dir, 'docker-root'),
      '--exec-root', join(dir, 'docker-exec'),
      '--pidfile', join(dir, 'docker.pid'),
      '--host', `unix://${dockerSocket}`,
      '--containerd', containerdSocket,
      '--containerd-namespace', `${NAMESPACE}-moby`,
      '--storage-driver', 'vfs',
      '--bridge', 'none',
      '--iptables=false',
      '--ip-forward=false',
      '--ip-masq=false',
    ]);
    await waitReady('dockerd', dockerd, () => raw('docker', ['version']));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    dir,
    ctr: (args) => runOk('ctr', ctrArgs(args)),
    docker: (args) => runOk('docker', args, { env }),
    raw,
    dockerConfig: join(dockerConfigDir, 'config.json'),
    stop,
  };
}
