/**
 * distribution's registry (Debian's docker-registry) as an upstream for the cache tests, guarded
 * by htpasswd (bcrypt, written with bcryptjs), on a free loopback port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { requireProgram } from '../helpers/process.js';
import { distributionConfig } from '../helpers/distribution.js';
import { TestClient } from '../helpers/client.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

export interface DistributionUpstream {
  readonly url: string;
  readonly host: string;
  /** A client that sends the htpasswd user's Basic credentials. */
  readonly client: TestClient;
  stop(): Promise<void>;
}

/** A TestClient that authenticates every request with Basic credentials. */
export class BasicClient extends TestClient {
  constructor(base: string, private readonly authorization: string) {
    super(base);
  }
  override request(path: string, init: RequestInit = {}): Promise<Response> {
    return super.request(path, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), Authorization: this.authorization } });
  }
}

export async function startDistributionUpstream(dir: string, user: string, password: string): Promise<DistributionUpstream> {
  requireProgram('docker-registry');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const htpasswd = join(dir, 'htpasswd');
  await writeFile(htpasswd, `${user}:${bcrypt.hashSync(password, 8)}\n`);
  const config = join(dir, 'distribution.yml');
  await writeFile(config, `${distributionConfig(join(dir, 'root'), host)}auth:\n  htpasswd:\n    realm: wharf-test\n    path: ${htpasswd}\n`);
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://${host}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}: ${output}`);
    const status = await fetch(`${url}/v2/`).then((r) => r.status, () => 0);
    if (status === 401) break;
    if (status !== 0) throw new Error(`docker-registry with htpasswd answered /v2/ with ${status}, not 401: ${output}`);
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer within 30 s: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return {
    url,
    host,
    client: new BasicClient(url, authorization),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
