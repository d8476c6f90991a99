/**
 * The bytes an object-store writer gathers before it sends them as one part (S3) or block (Azure):
 * chunks as they arrive, cut from the front in the sizes the store wants.
 */
export class PartBuffer {
  #chunks: Buffer[] = [];
  #length = 0;

  /** Bytes held. */
  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Takes the first `length` bytes (at most what is held) off the front. */
  cut(length: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#length);
    const part = all.subarray(0, length);
    const rest = all.subarray(length);
    this.#chunks = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.#length = rest.length;
    return part;
  }

  /** Everything held, as one buffer, without taking it. */
  peek(): Buffer {
    return Buffer.concat(this.#chunks, this.#length);
  }
}
