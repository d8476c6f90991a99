/**
 * distribution's `redirect` storage middleware (`middleware.storage: [{name: redirect, options:
 * {baseurl}}]`): blob reads are redirected to `baseurl` joined with the file's storage path (a CDN
 * or a web server in front of the same storage); everything else goes to the driver below.
 */
import type { Readable } from 'node:stream';
import type { CallOptions, FileInfo, FileWriter, ReaderOptions, StorageDriver, WriterOptions } from '../driver.js';

export class RedirectMiddleware implements StorageDriver {
  readonly name: string;
  readonly #base: URL;

  constructor(
    private readonly inner: StorageDriver,
    baseurl: string,
  ) {
    this.name = inner.name;
    this.#base = new URL(baseurl);
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

  /** `baseurl` with the storage path appended to its own path (as Go's path.Join does). */
  async redirectURL(path: string, _method: 'GET' | 'HEAD', _options?: CallOptions): Promise<string> {
    const url = new URL(this.#base.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    return url.href;
  }
}
