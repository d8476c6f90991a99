/** Reads a small request body (a manifest) whole, refusing it past a size cap with 413. */
import { RegistryError } from '../registry/errors.js';
import type { HttpContext } from './context.js';
import { contentLength } from './context.js';

function tooLarge(max: number): RegistryError {
  return new RegistryError('MANIFEST_INVALID', { maxSize: max }, { status: 413, message: `manifest invalid: the body is larger than the ${max} bytes accepted` });
}

export async function readSmallBody(ctx: HttpContext, max: number): Promise<Buffer> {
  const announced = contentLength(ctx);
  if (announced !== undefined && announced > max) throw tooLarge(max);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of ctx.req) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > max) throw tooLarge(max);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}
