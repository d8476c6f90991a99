/**
 * What the single-blob benchmarks (stream-memory, object-store, proxy) share: generated blob
 * content, one streamed request with the answer's bytes hashed, and a process's peak RSS.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';

const MIB = 1024 * 1024;

/** `sizeMiB` of bytes: `seed` repeated over one MiB, its first four bytes the MiB's index. */
export function* blobContent(sizeMiB: number, seed: Buffer): Generator<Buffer> {
  const block = Buffer.alloc(MIB);
  for (let i = 0; i < MIB; i += seed.length) seed.copy(block, i);
  for (let i = 0; i < sizeMiB; i++) {
    const chunk = Buffer.from(block);
    chunk.writeUInt32BE(i, 0);
    yield chunk;
  }
}

export interface StreamedAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** `sha256:<hex>` of the answer's body. */
  readonly digest: string;
  readonly bytes: number;
}

/** One request, the body streamed in (chunked) when given; the answer's body hashed as it arrives. */
export function sendStreaming(url: string, method: string, body?: Readable): Promise<StreamedAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: body ? { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' } : {} }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (d: Buffer) => {
        hash.update(d);
        bytes += d.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, digest: `sha256:${hash.digest('hex')}`, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

/** A process's peak resident set (VmHWM) in MiB. */
export async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}
