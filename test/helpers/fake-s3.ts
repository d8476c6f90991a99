/**
 * An in-memory stand-in for the S3 client (`client.send(command)`), for what no emulator here has:
 * UploadPartCopy (s3rver answers NotImplemented) and atomic replacement of an object on PutObject
 * (s3rver rewrites the file in place). It ENFORCES S3's rules, so a driver that breaks one fails:
 * part numbers 1..10,000, every part but the last at least `minPartSize` (5 MiB unless a test
 * lowers it), optionally equal parts (Cloudflare R2, some Ceph setups), ContentLength equal to the
 * body, copy source ranges at most `maxCopyRange` (5 GiB) and inside the source, objects at most 5
 * TiB. Every command is recorded, and the bytes of parts being received at once are measured.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';

const MiB = 1024 * 1024;

export interface FakeS3Options {
  readonly minPartSize?: number;
  readonly maxCopyRange?: number;
  /** Refuse a multipart upload whose parts (but the last) differ in size, as R2 does. */
  readonly equalParts?: boolean;
  /** Milliseconds each call takes (so that calls overlap). */
  readonly latencyMs?: number;
}

export interface FakeCall {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

interface StoredObject {
  readonly body: Buffer;
  readonly metadata: Record<string, string>;
  readonly lastModified: Date;
}

interface Upload {
  readonly key: string;
  readonly metadata: Record<string, string>;
  readonly parts: Map<number, { etag: string; body: Buffer }>;
}

/** An S3 error as the SDK raises it (name and HTTP status). */
export class FakeS3Error extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(name: string, status: number, message: string) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
  }
}

type Input = Record<string, unknown>;

function etagOf(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

function bodyOf(input: Input): Buffer {
  const body = input['Body'];
  if (!(body instanceof Uint8Array)) throw new FakeS3Error('InvalidRequest', 400, 'the fake takes bodies as bytes');
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (input['ContentLength'] !== undefined && input['ContentLength'] !== buf.length) {
    throw new FakeS3Error('IncompleteBody', 400, `ContentLength ${String(input['ContentLength'])} for a body of ${buf.length} bytes`);
  }
  return Buffer.from(buf); // the store's own copy
}

function range(header: unknown, size: number): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(String(header));
  if (!m) throw new FakeS3Error('InvalidArgument', 400, `bad range ${String(header)}`);
  const start = Number(m[1]);
  const end = Math.min(Number(m[2]), size - 1);
  if (start > end) throw new FakeS3Error('InvalidRange', 416, `range ${String(header)} of ${size} bytes`);
  return { start, end };
}

export class FakeS3 {
  readonly objects = new Map<string, StoredObject>();
  readonly uploads = new Map<string, Upload>();
  readonly calls: FakeCall[] = [];
  /** Part sizes of every multipart upload completed, in order. */
  readonly completed: { key: string; partSizes: number[] }[] = [];
  #bytesInFlight = 0;
  maxBytesInFlight = 0;
  #nextUpload = 1;
  readonly #o: Required<FakeS3Options>;

  constructor(options: FakeS3Options = {}) {
    this.#o = { minPartSize: 5 * MiB, maxCopyRange: 5 * 1024 * MiB, equalParts: true, latencyMs: 1, ...options };
  }

  /** This fake as the driver's client. */
  get client(): S3Client {
    return { send: (command: unknown) => this.send(command as { constructor: { name: string }; input: Input }) } as unknown as S3Client;
  }

  /** The commands called so far, by name (`PutObject`, ...). */
  names(): string[] {
    return this.calls.map((c) => c.command);
  }

  async send(command: { constructor: { name: string }; input: Input }): Promise<unknown> {
    const name = command.constructor.name.replace(/Command$/, '');
    const input = command.input;
    const { Body: _body, ...recorded } = input;
    this.calls.push({ command: name, input: { ...recorded, ...(input['Body'] instanceof Uint8Array ? { BodyLength: input['Body'].byteLength } : {}) } });
    const bytes = name === 'UploadPart' && input['Body'] instanceof Uint8Array ? input['Body'].byteLength : 0;
    this.#bytesInFlight += bytes;
    this.maxBytesInFlight = Math.max(this.maxBytesInFlight, this.#bytesInFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, this.#o.latencyMs));
      return this.#run(name, input);
    } finally {
      this.#bytesInFlight -= bytes;
    }
  }

  #object(key: unknown): StoredObject {
    const o = this.objects.get(String(key));
    if (!o) throw new FakeS3Error('NoSuchKey', 404, `no object ${String(key)}`);
    return o;
  }

  #upload(input: Input): Upload {
    const u = this.uploads.get(String(input['UploadId']));
    if (!u || u.key !== input['Key']) throw new FakeS3Error('NoSuchUpload', 404, `no upload ${String(input['UploadId'])} on ${String(input['Key'])}`);
    return u;
  }

  #partNumber(input: Input): number {
    const n = input['PartNumber'];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10_000) throw new FakeS3Error('InvalidArgument', 400, `part number ${String(n)} outside 1..10000`);
    return n;
  }

  #source(input: Input): StoredObject {
    const source = String(input['CopySource']);
    const bucket = `${String(input['Bucket'])}/`;
    if (!source.startsWith(bucket)) throw new FakeS3Error('InvalidArgument', 400, `copy source ${source} outside the bucket`);
    return this.#object(source.slice(bucket.length));
  }

  #put(key: string, body: Buffer, metadata: Record<string, string>): void {
    if (body.length > 5 * 1024 * 1024 * MiB) throw new FakeS3Error('EntityTooLarge', 400, 'objects hold at most 5 TiB');
    // Replaced in one step: a reader sees the old object or the new one.
    this.objects.set(key, { body, metadata, lastModified: new Date() });
  }

  #run(name: string, input: Input): unknown {
    const key = String(input['Key']);
    switch (name) {
      case 'PutObject':
        this.#put(key, bodyOf(input), { ...((input['Metadata'] as Record<string, string> | undefined) ?? {}) });
        return { ETag: '"put"' };
      case 'HeadObject': {
        const o = this.objects.get(key);
        if (!o) throw new FakeS3Error('NotFound', 404, 'not found');
        return { ContentLength: o.body.length, Metadata: { ...o.metadata }, LastModified: o.lastModified };
      }
      case 'GetObject': {
        const o = this.#object(key);
        const r = range(input['Range'], o.body.length);
        const bytes = r ? o.body.subarray(r.start, r.end + 1) : o.body;
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += 64 * 1024) chunks.push(bytes.subarray(i, i + 64 * 1024));
        return { Body: Readable.from(chunks), ContentLength: bytes.length, Metadata: { ...o.metadata } };
      }
      case 'DeleteObject':
        this.objects.delete(key);
        return {};
      case 'DeleteObjects': {
        const objects = ((input['Delete'] as { Objects?: { Key?: string }[] } | undefined)?.Objects ?? []);
        if (objects.length > 1000) throw new FakeS3Error('MalformedXML', 400, 'at most 1000 keys per DeleteObjects');
        for (const o of objects) this.objects.delete(String(o.Key));
        return { Errors: [] };
      }
      case 'CopyObject': {
        const source = this.#source(input);
        if (source.body.length > this.#o.maxCopyRange) throw new FakeS3Error('InvalidRequest', 400, 'CopyObject copies at most 5 GiB');
        this.#put(key, source.body, { ...source.metadata });
        return { CopyObjectResult: { ETag: '"copy"' } };
      }
      case 'ListObjects':
        return this.#list(input);
      case 'CreateMultipartUpload': {
        const id = `upload-${this.#nextUpload++}`;
        this.uploads.set(id, { key, metadata: { ...((input['Metadata'] as Record<string, string> | undefined) ?? {}) }, parts: new Map() });
        return { UploadId: id };
      }
      case 'UploadPart': {
        const u = this.#upload(input);
        const body = bodyOf(input);
        const etag = etagOf(body);
        u.parts.set(this.#partNumber(input), { etag, body });
        return { ETag: etag };
      }
      case 'UploadPartCopy': {
        const u = this.#upload(input);
        const n = this.#partNumber(input);
        const source = this.#source(input);
        const r = range(input['CopySourceRange'], source.body.length) ?? { start: 0, end: source.body.length - 1 };
        if (r.end - r.start + 1 > this.#o.maxCopyRange) throw new FakeS3Error('InvalidArgument', 400, `a copy range of ${r.end - r.start + 1} bytes, more than ${this.#o.maxCopyRange}`);
        if (Number(/-(\d+)$/.exec(String(input['CopySourceRange']))?.[1] ?? 0) >= source.body.length) {
          throw new FakeS3Error('InvalidRange', 416, 'the copy range ends past the source');
        }
        const body = Buffer.from(source.body.subarray(r.start, r.end + 1));
        const etag = etagOf(body);
        u.parts.set(n, { etag, body });
        return { CopyPartResult: { ETag: etag } };
      }
      case 'CompleteMultipartUpload':
        return this.#complete(input);
      case 'AbortMultipartUpload':
        this.#upload(input);
        this.uploads.delete(String(input['UploadId']));
        return {};
      default:
        throw new FakeS3Error('NotImplemented', 501, `the fake has no ${name}`);
    }
  }

  #complete(input: Input): unknown {
    const u = this.#upload(input);
    const listed = ((input['MultipartUpload'] as { Parts?: { ETag?: string; PartNumber?: number }[] } | undefined)?.Parts ?? []);
    if (listed.length === 0) throw new FakeS3Error('MalformedXML', 400, 'no parts');
    const bodies: Buffer[] = [];
    listed.forEach((p, i) => {
      const part = u.parts.get(p.PartNumber ?? 0);
      if (i > 0 && (p.PartNumber ?? 0) <= (listed[i - 1]!.PartNumber ?? 0)) throw new FakeS3Error('InvalidPartOrder', 400, 'parts out of order');
      if (!part || part.etag !== p.ETag) throw new FakeS3Error('InvalidPart', 400, `part ${String(p.PartNumber)} not uploaded with ETag ${String(p.ETag)}`);
      bodies.push(part.body);
    });
    const sizes = bodies.map((b) => b.length);
    sizes.slice(0, -1).forEach((size, i) => {
      if (size < this.#o.minPartSize) throw new FakeS3Error('EntityTooSmall', 400, `part ${i + 1} has ${size} bytes, less than ${this.#o.minPartSize}`);
      if (this.#o.equalParts && size !== sizes[0]) throw new FakeS3Error('InvalidPart', 400, `part ${i + 1} has ${size} bytes where part 1 has ${sizes[0]}: parts must be equal`);
    });
    if (this.#o.equalParts && sizes.length > 1 && sizes.at(-1)! > sizes[0]!) throw new FakeS3Error('InvalidPart', 400, 'the last part is larger than the others');
    this.#put(u.key, Buffer.concat(bodies), u.metadata);
    this.uploads.delete(String(input['UploadId']));
    this.completed.push({ key: u.key, partSizes: sizes });
    return { ETag: '"complete"' };
  }

  #list(input: Input): unknown {
    const prefix = String(input['Prefix'] ?? '');
    const delimiter = input['Delimiter'] === undefined ? undefined : String(input['Delimiter']);
    const marker = String(input['Marker'] ?? '');
    const max = Number(input['MaxKeys'] ?? 1000);
    // A marker that is a common prefix (ends in the delimiter) skips every key below it.
    const skipped = delimiter !== undefined && marker.endsWith(delimiter) ? marker : undefined;
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && k > marker && !(skipped && k.startsWith(skipped))).sort();
    const contents: { Key: string }[] = [];
    const prefixes: { Prefix: string }[] = [];
    let last = '';
    for (const k of keys) {
      if (contents.length + prefixes.length >= max) return { Contents: contents, CommonPrefixes: prefixes, IsTruncated: true, NextMarker: last };
      const cut = delimiter === undefined ? -1 : k.indexOf(delimiter, prefix.length);
      if (cut === -1) {
        contents.push({ Key: k });
        last = k;
        continue;
      }
      const p = k.slice(0, cut + 1);
      if (prefixes.at(-1)?.Prefix !== p) prefixes.push({ Prefix: p });
      last = p;
    }
    return { Contents: contents, CommonPrefixes: prefixes, IsTruncated: false };
  }
}
