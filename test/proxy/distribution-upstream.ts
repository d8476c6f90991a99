/**
 * distribution's registry (Debian's docker-registry) as an upstream for the cache tests, guarded
 * by htpasswd (bcrypt, written with bcryptjs), on a free loopback port.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { requireProgram } from '../helpers/process.js';
import { distributionConfig, freePort, startDistribution } from '../helpers/distribution.js';
import { TestClient } from '../helpers/client.js';

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
  const distribution = await startDistribution(config, host, 401);
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return {
    url: distribution.url,
    host,
    client: new BasicClient(distribution.url, authorization),
    stop: () => distribution.stop(),
  };
}
