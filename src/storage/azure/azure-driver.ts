/**
 * The `azure` driver on `@azure/storage-blob`, with distribution's object layout: the file at
 * `/a/b` is the blob `<rootdirectory>/a/b` in `container`; directories are name prefixes. Files
 * are written as block blobs (`azure-writer.ts`); any blob type is read (distribution wrote its
 * uploads and, long ago, its small files as append blobs), and a non-block blob is replaced by
 * putContent or a new writer as distribution does (delete, then write).
 */
import { Readable, addAbortSignal } from 'node:stream';
import type { BlobGetPropertiesResponse, ContainerClient } from '@azure/storage-blob';
import {
  ContentTooLargeError,
  InvalidOffsetError,
  MAX_CONTENT_SIZE,
  PathNotFoundError,
  StorageError,
  type CallOptions,
  type DriverParameters,
  type FileInfo,
  type FileWriter,
  type ReaderOptions,
  type StorageDriver,
  type WriterOptions,
} from '../driver.js';
import { byteOrder } from '../base.js';
import { azureOptions, type AzureDriverOptions } from './azure-config.js';
import { SharedKeySigner, azureClients, signedBlobURL, type AzureClients, type BlobSigner } from './azure-client.js';
import { AzureWriter, type AzureWriterStart } from './azure-writer.js';
import { resumePoint } from './azure-blocks.js';
import { copyBlob } from './azure-copy.js';

/** The driver for a `storage.azure` section; creates the container when missing (as distribution 2.x does). */
export async function openAzureDriver(parameters: DriverParameters): Promise<AzureDriver> {
  const options = azureOptions(parameters);
  const driver = new AzureDriver(options, await azureClients(options));
  // a credential without the right to create containers just goes on
  await driver.container.createIfNotExists().catch(() => undefined);
  return driver;
}

/** How long a redirect URL is valid (distribution: 20 minutes). */
const REDIRECT_EXPIRY_SECONDS = 20 * 60;
/** Blobs deleted at once when a directory is deleted. */
const DELETE_CONCURRENCY = 8;

export function isNotFound(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { statusCode?: unknown; code?: unknown };
  return e.statusCode === 404 || e.code === 'BlobNotFound' || e.code === 'ContainerNotFound';
}

function call(options: CallOptions | undefined): { abortSignal?: AbortSignal } {
  return options?.signal ? { abortSignal: options.signal } : {};
}

export class AzureDriver implements StorageDriver {
  readonly name = 'azure';
  readonly container: ContainerClient;
  readonly signer: BlobSigner;

  constructor(
    readonly options: AzureDriverOptions,
    clients: AzureClients,
  ) {
    this.container = clients.container;
    this.signer = clients.signer;
  }

  /** The blob name of a driver path (root directory + path, no leading slash). */
  blobName(path: string): string {
    const root = this.options.rootDirectory;
    return root === '' ? path.slice(1) : `${root}${path}`;
  }

  #dirPrefix(path: string): string {
    if (path === '/') return this.options.rootDirectory === '' ? '' : `${this.options.rootDirectory}/`;
    return `${this.blobName(path)}/`;
  }

  async #props(path: string, options?: CallOptions): Promise<BlobGetPropertiesResponse | undefined> {
    if (path === '/') return undefined;
    try {
      return await this.container.getBlobClient(this.blobName(path)).getProperties(call(options));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #hasBlobsUnder(prefix: string, options?: CallOptions): Promise<boolean> {
    const pages = this.container.listBlobsFlat({ prefix, ...call(options) }).byPage({ maxPageSize: 1 });
    const first = await pages.next();
    return !first.done && first.value.segment.blobItems.length > 0;
  }

  async stat(path: string, options?: CallOptions): Promise<FileInfo> {
    const props = await this.#props(path, options);
    if (props) return { path, size: props.contentLength ?? 0, modTime: props.lastModified ?? new Date(), isDirectory: false };
    if (await this.#hasBlobsUnder(this.#dirPrefix(path), options)) return { path, size: 0, modTime: new Date(), isDirectory: true };
    throw new PathNotFoundError(this.name, path);
  }

  async getContent(path: string, options?: CallOptions): Promise<Buffer> {
    const props = await this.#props(path, options);
    if (!props) throw new PathNotFoundError(this.name, path);
    const size = props.contentLength ?? 0;
    if (size > MAX_CONTENT_SIZE) throw new ContentTooLargeError(this.name, path, size);
    const chunks: Buffer[] = [];
    for await (const chunk of await this.reader(path, options)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async putContent(path: string, content: Uint8Array, options?: CallOptions): Promise<void> {
    const props = await this.#props(path, options);
    const blob = this.container.getBlockBlobClient(this.blobName(path));
    // A non-block blob (distribution's old append blobs) cannot be replaced by Put Blob: delete it first.
    if (props?.blobType !== undefined && props.blobType !== 'BlockBlob') await blob.deleteIfExists(call(options));
    const body = Buffer.from(content); // the caller may reuse its buffer
    await blob.upload(body, body.length, { blobHTTPHeaders: { blobContentType: 'application/octet-stream' }, ...call(options) });
  }

  async reader(path: string, options?: ReaderOptions): Promise<Readable> {
    const props = await this.#props(path, options);
    if (!props) throw new PathNotFoundError(this.name, path);
    const size = props.contentLength ?? 0;
    const offset = options?.offset ?? 0;
    if (offset > size) throw new InvalidOffsetError(this.name, path, offset);
    const end = options?.length === undefined ? size : Math.min(size, offset + options.length);
    if (end <= offset) return Readable.from([]);
    // To the end: no count, so one GET reads one version even if the blob is replaced meanwhile.
    const count = options?.length === undefined ? undefined : end - offset;
    const out = await this.container.getBlobClient(this.blobName(path)).download(offset, count, { ...call(options), maxRetryRequests: 5 });
    const body = out.readableStreamBody as Readable | undefined;
    if (!body) throw new StorageError(`${this.name}: no body for ${path}`, this.name, path);
    if (options?.signal) addAbortSignal(options.signal, body);
    return body;
  }

  async writer(path: string, options?: WriterOptions): Promise<FileWriter> {
    const props = await this.#props(path, options);
    const blob = this.container.getBlockBlobClient(this.blobName(path));
    const isBlock = props?.blobType === undefined || props.blobType === 'BlockBlob';
    let start: AzureWriterStart = { keep: [], reload: 0, size: 0 };
    if (props && options?.append) {
      const size = props.contentLength ?? 0;
      if (!isBlock) {
        throw new StorageError(`${this.name}: ${path} is a ${props.blobType} (an upload distribution began); start the upload again`, this.name, path);
      }
      const list = await blob.getBlockList('committed', call(options));
      const blocks = (list.committedBlocks ?? []).map((b) => ({ name: b.name, size: b.size }));
      const resume = blocks.length > 0 || size === 0 ? resumePoint(blocks) : undefined;
      start = resume ? { keep: resume.keep, reload: resume.tail, size } : { keep: [], reload: size, size };
    } else if (props && !isBlock) {
      await blob.deleteIfExists(call(options));
    }
    const writer = new AzureWriter(this.name, path, blob, start, props !== undefined && options?.append === true);
    if (options?.signal) addAbortSignal(options.signal, writer);
    return writer;
  }

  async *list(path: string, options?: CallOptions): AsyncIterable<string> {
    const prefix = this.#dirPrefix(path);
    const names: string[] = [];
    for await (const item of this.container.listBlobsByHierarchy('/', { prefix, ...call(options) })) {
      const name = item.kind === 'prefix' ? item.name.slice(prefix.length, -1) : item.name.slice(prefix.length);
      if (name !== '') names.push(name);
    }
    if (names.length === 0) throw new PathNotFoundError(this.name, path);
    const base = path === '/' ? '/' : `${path}/`;
    for (const name of [...new Set(names)].sort(byteOrder)) yield base + name;
  }

  async move(from: string, to: string, options?: CallOptions): Promise<void> {
    const props = await this.#props(from, options);
    if (!props) throw new PathNotFoundError(this.name, from);
    if (from === to) return;
    const source = this.container.getBlobClient(this.blobName(from));
    // Same account: a shared key authorizes the source too; an Entra ID identity gets a SAS for it.
    const sourceURL = this.signer instanceof SharedKeySigner
      ? source.url
      : await signedBlobURL(this.signer, this.container.containerName, this.blobName(from), source.url, REDIRECT_EXPIRY_SECONDS);
    await copyBlob(this.container.getBlobClient(this.blobName(to)), sourceURL, this.options, options?.signal);
    await source.deleteIfExists(call(options));
  }

  async delete(path: string, options?: CallOptions): Promise<void> {
    const names: string[] = [];
    if (await this.#props(path, options)) names.push(this.blobName(path));
    for await (const item of this.container.listBlobsFlat({ prefix: this.#dirPrefix(path), ...call(options) })) names.push(item.name);
    if (names.length === 0) throw new PathNotFoundError(this.name, path);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < names.length; i = next++) await this.container.getBlobClient(names[i]!).deleteIfExists(call(options));
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, names.length) }, worker));
  }

  async redirectURL(path: string, _method: 'GET' | 'HEAD', _options?: CallOptions): Promise<string | undefined> {
    const name = this.blobName(path);
    return signedBlobURL(this.signer, this.container.containerName, name, this.container.getBlobClient(name).url, REDIRECT_EXPIRY_SECONDS);
  }
}
