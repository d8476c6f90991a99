/** The config.yml that tests and benchmarks give distribution's registry (`docker-registry serve`). */
export function distributionConfig(root: string, addr: string, options: { accessLog?: boolean } = {}): string {
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    `    disabled: ${options.accessLog === true ? 'false' : 'true'}`,
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${root}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${addr}`,
    '',
  ].join('\n');
}

/** distribution's registry (`docker-registry serve`) running on a config file, until stop(). */
export interface RunningDistribution {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts it and waits until `GET /v2/` answers `readyStatus` (401 behind auth). */
export async function startDistribution(configFile: string, host: string, readyStatus = 200): Promise<RunningDistribution> {
  const { spawn } = await import('node:child_process');
  const child = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://${host}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}: ${output}`);
    const status = await fetch(`${url}/v2/`).then((r) => r.status, () => 0);
    if (status === readyStatus) break;
    if (status !== 0) throw new Error(`docker-registry answered /v2/ with ${status}, not ${readyStatus}: ${output}`);
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer within 20 s: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}
