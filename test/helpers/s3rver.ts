/**
 * s3rver, the S3 emulator (npm `s3rver`), started in this process on a free loopback port with a
 * temporary directory, and `storage.s3` parameters that point a driver at it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export const S3RVER_BUCKET = 'wharf';

export interface RunningS3rver {
  readonly endpoint: string;
  /** `storage.s3` parameters for a driver on this emulator, below `rootdirectory`. */
  parameters(rootdirectory: string, extra?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

/** With `unref`, the emulator does not keep the process alive (for a server shared by a whole test file). */
export async function startS3rver(options: { unref?: boolean } = {}): Promise<RunningS3rver> {
  const directory = await mkdtemp(join(tmpdir(), 'wharf-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: S3RVER_BUCKET }] });
  const { port } = await server.run();
  if (options.unref) server.httpServer?.unref();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    parameters: (rootdirectory, extra = {}) => ({
      accesskey: 'S3RVER',
      secretkey: 'S3RVER',
      region: 'us-east-1',
      regionendpoint: endpoint,
      forcepathstyle: true,
      secure: false,
      bucket: S3RVER_BUCKET,
      rootdirectory,
      // s3rver has no UploadPartCopy: moves use CopyObject (s3-copy.test.ts covers the multipart copy)
      multipartcopythresholdsize: 5 * 1024 * 1024 * 1024,
      // s3rver's delimiter listing misses prefixes with no object directly below them
      delimiterlisting: false,
      ...extra,
    }),
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
