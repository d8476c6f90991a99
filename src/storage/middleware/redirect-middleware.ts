/**
 * distribution's `redirect` storage middleware (`middleware.storage: [{name: redirect, options:
 * {baseurl}}]`): blob reads are redirected to `baseurl` joined with the file's storage path (a CDN
 * or a web server in front of the same storage); everything else goes to the driver below.
 */
import type { CallOptions, StorageDriver } from '../driver.js';
import { ForwardingDriver } from '../forwarding-driver.js';

export class RedirectMiddleware extends ForwardingDriver {
  readonly #base: URL;

  constructor(inner: StorageDriver, baseurl: string) {
    super(inner);
    this.#base = new URL(baseurl);
  }

  /** `baseurl` with the storage path appended to its own path (as Go's path.Join does). */
  async redirectURL(path: string, _method: 'GET' | 'HEAD', _options?: CallOptions): Promise<string> {
    const url = new URL(this.#base.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    return url.href;
  }
}
