/**
 * A driver decorator's base: every member goes to the driver below, so a decorator overrides only
 * what it changes (as ForwardingRegistry does for the Registry).
 */
import type { Readable } from 'node:stream';
import type { CallOptions, FileInfo, FileWriter, ReaderOptions, StorageDriver, WriterOptions } from './driver.js';

export class ForwardingDriver implements StorageDriver {
  readonly name: string;

  constructor(protected readonly inner: StorageDriver) {
    this.name = inner.name;
  }

  stat(path: string, options?: CallOptions): Promise<FileInfo> {
    return this.inner.stat(path, options);
  }
  getContent(path: string, options?: CallOptions): Promise<Buffer> {
    return this.inner.getContent(path, options);
  }
  putContent(path: string, content: Uint8Array, options?: CallOptions): Promise<void> {
    return this.inner.putContent(path, content, options);
  }
  reader(path: string, options?: ReaderOptions): Promise<Readable> {
    return this.inner.reader(path, options);
  }
  writer(path: string, options?: WriterOptions): Promise<FileWriter> {
    return this.inner.writer(path, options);
  }
  list(path: string, options?: CallOptions): AsyncIterable<string> {
    return this.inner.list(path, options);
  }
  move(from: string, to: string, options?: CallOptions): Promise<void> {
    return this.inner.move(from, to, options);
  }
  delete(path: string, options?: CallOptions): Promise<void> {
    return this.inner.delete(path, options);
  }
}
