/**
 * azurite, the Azure Blob emulator (npm `azurite`), started as a child process on a free loopback
 * port with a temporary directory, and `storage.azure` parameters that point a driver at it
 * (azurite's well-known devstoreaccount1 account, path-style service URL).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';

export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
export const AZURITE_CONTAINER = 'wharf';

export interface RunningAzurite {
  readonly serviceURL: string;
  /** `storage.azure` parameters for a driver on this emulator, below `rootdirectory`. */
  parameters(rootdirectory: string, extra?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

function azuriteMain(): string {
  try {
    return createRequire(import.meta.url).resolve('azurite/dist/src/blob/main.js');
  } catch (err) {
    throw new Error('azurite is not installed: it is a devDependency of Wharf (npm ci installs it)', { cause: err });
  }
}

/** With `unref`, the emulator does not keep this process alive (for a server shared by a whole test file). */
export async function startAzurite(options: { unref?: boolean } = {}): Promise<RunningAzurite> {
  const directory = await mkdtemp(join(tmpdir(), 'wharf-azurite-'));
  const child = spawn(
    process.execPath,
    [azuriteMain(), '--blobHost', '127.0.0.1', '--blobPort', '0', '--location', directory, '--silent', '--loose', '--skipApiVersionCheck', '--disableTelemetry'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      output += `${line}\n`;
      const m = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`azurite exited with ${code} before listening:\n${output}`)));
    setTimeout(() => reject(new Error(`azurite did not start within 60 s:\n${output}`)), 60_000).unref();
  });
  const stop = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', stop);
  if (options.unref) {
    child.unref();
    for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
  }
  const serviceURL = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const service = new BlobServiceClient(serviceURL, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  await service.getContainerClient(AZURITE_CONTAINER).createIfNotExists();
  return {
    serviceURL,
    parameters: (rootdirectory, extra = {}) => ({
      accountname: AZURITE_ACCOUNT,
      accountkey: AZURITE_KEY,
      container: AZURITE_CONTAINER,
      serviceurl: serviceURL,
      rootdirectory,
      ...extra,
    }),
    close: async () => {
      stop();
      await exited;
      process.removeListener('exit', stop);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
