/**
 * A body whose bytes are all in memory already (a small blob from the read cache), as a Readable
 * for whoever consumes streams, with the bytes at hand for the response sender, which writes them
 * in one call instead of piping: a pipeline makes an AbortController, an abort reason and
 * end-of-stream listeners per response, more than the write itself for a few KiB.
 */
import { Readable } from 'node:stream';

export class MemoryBody extends Readable {
  #sent = false;

  constructor(readonly content: Buffer) {
    super();
  }

  override _read(): void {
    if (!this.#sent && this.content.length > 0) this.push(this.content);
    this.#sent = true;
    this.push(null);
  }
}
