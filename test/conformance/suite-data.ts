/**
 * The test-data generator of the data-driven conformance suite (testdata.go of the rewrite in
 * `conformance/` of opencontainers/distribution-spec), rebuilt in TypeScript; the data sets built
 * with it are in suite-sets.ts.
 *
 * A TestData is one data set: the blobs and manifests to push, the order the manifests go in (children
 * before the index that lists them), the tags, and the referrers each subject must list afterwards.
 * Options propagate the way the suite's do: what is given to a "full" index also reaches each image in it
 * (tag, subject, artifactType, annotations, algorithm, extra fields), so e.g. an index with a subject makes
 * its images referrers of that subject too.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export const MT = {
  example1: 'application/vnd.example.oci.conformance.v1',
  example2: 'application/vnd.example.oci.conformance.v2',
  octetStream: 'application/octet-stream',
  config: 'application/vnd.oci.image.config.v1+json',
  image: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerPrefix: 'application/vnd.oci.image.layer.v1.',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerNd: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  layerNdGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  emptyJson: 'application/vnd.oci.empty.v1+json',
} as const;

export type Algo = 'sha256' | 'sha512';

export function digestOf(algo: Algo, content: Uint8Array | string): string {
  return `${algo}:${createHash(algo).update(content).digest('hex')}`;
}

/** 26 characters of base32 (A-Z, 2-7), like Go's crypto/rand.Text. */
export function randText(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...randomBytes(26)].map((b) => alphabet[b % 32]).join('');
}

export interface Platform {
  architecture: string;
  os: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

export interface GenOpts {
  algo?: Algo;
  annotations?: Record<string, string>;
  /** Add one `org.example.<random>` annotation of its own to each manifest. */
  annotationUniq?: boolean;
  artifactType?: string;
  blobSize?: number;
  /** Layers as gzip (the default) or as a plain tar. */
  compress?: boolean;
  configBytes?: Buffer;
  configMediaType?: string;
  descriptorMediaType?: string;
  /** Add a random unknown top-level field to configs and manifests. */
  extraField?: boolean;
  layerBytes?: Buffer;
  layerCount?: number;
  layerMediaType?: string;
  platform?: Platform;
  platforms?: (Platform | undefined)[];
  /** Carry each descriptor's content in its `data` field. */
  setData?: boolean;
  subject?: Descriptor;
  tag?: string;
}

const AMD64: Platform = { architecture: 'amd64', os: 'linux' };
const ARM64: Platform = { architecture: 'arm64', os: 'linux' };

function withExtraField(value: object, extra: boolean | undefined): Buffer {
  const doc: Record<string, unknown> = { ...value };
  if (extra === true) doc[`org.${randText()}`] = randText();
  return Buffer.from(JSON.stringify(doc));
}

/** A ustar archive holding one regular file, closed with two zero blocks. */
function tarOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (offset: number, length: number, value: string) => header.write(value, offset, length, 'ascii');
  const octal = (value: number, width: number) => `${value.toString(8).padStart(width - 1, '0')}\0`;
  put(0, 100, name);
  put(100, 8, octal(0o644, 8));
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  put(124, 12, octal(content.length, 12));
  put(136, 12, octal(0, 12));
  header.fill(' ', 148, 156);
  put(156, 1, '0');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

export class TestData {
  readonly tags = new Map<string, string>();
  readonly tagPushed = new Set<string>();
  readonly desc = new Map<string, Descriptor>();
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, Buffer>();
  readonly manOrder: string[] = [];
  readonly referrers = new Map<string, Descriptor[]>();
  /** Manifests pushed by digest with `?tag=` for each tag that names them. */
  readonly tagParam = new Set<string>();
  /** Manifests whose push must fail with 400 (their bytes do not match their digest); never pulled. */
  readonly badDigest = new Set<string>();

  constructor(readonly name: string) {}

  addBlob(bytes: Buffer, opts: GenOpts = {}): string {
    const digest = digestOf(opts.algo ?? 'sha256', bytes);
    this.blobs.set(digest, bytes);
    this.desc.set(digest, {
      mediaType: opts.descriptorMediaType ?? MT.octetStream,
      digest,
      size: bytes.length,
      ...(opts.setData === true && { data: bytes.toString('base64') }),
    });
    return digest;
  }

  genBlob(opts: GenOpts = {}): { digest: string; bytes: Buffer } {
    const bytes = randomBytes(opts.blobSize ?? 2048);
    return { digest: this.addBlob(bytes, opts), bytes };
  }

  /** A layer holding one small file; answers the digest of the layer as pushed and of its tar. */
  genLayer(fileNum: number, opts: GenOpts = {}): { digest: string; diffId: string } {
    const algo = opts.algo ?? 'sha256';
    const file = Buffer.from(`file ${fileNum} of a conformance-port layer\nnonce ${randomInt(2 ** 47)}\n`);
    const tar = tarOneFile(`./conformance-${fileNum}.txt`, file);
    const gzip = opts.compress !== false;
    const body = gzip ? gzipSync(tar) : tar;
    const digest = digestOf(algo, body);
    const diffId = digestOf(algo, tar);
    const data = (b: Buffer) => (opts.setData === true ? { data: b.toString('base64') } : {});
    this.blobs.set(digest, body);
    this.desc.set(digest, { mediaType: gzip ? MT.layerGzip : MT.layer, digest, size: body.length, ...data(body) });
    if (!this.desc.has(diffId)) this.desc.set(diffId, { mediaType: MT.layer, digest: diffId, size: tar.length, ...data(tar) });
    return { digest, diffId };
  }

  genConfig(platform: Platform, diffIds: string[], opts: GenOpts = {}): string {
    const body = withExtraField({
      author: 'OCI Conformance Test',
      architecture: platform.architecture,
      os: platform.os,
      config: {},
      rootfs: { type: 'layers', diff_ids: diffIds },
    }, opts.extraField);
    const digest = digestOf(opts.algo ?? 'sha256', body);
    this.blobs.set(digest, body);
    this.desc.set(digest, {
      mediaType: opts.configMediaType ?? MT.config,
      digest,
      size: body.length,
      ...(opts.setData === true && { data: body.toString('base64') }),
    });
    return digest;
  }

  private record(body: Buffer, mediaType: string, opts: GenOpts, referrer: { artifactType?: string; annotations?: Record<string, string> }): string {
    const digest = digestOf(opts.algo ?? 'sha256', body);
    this.manifests.set(digest, body);
    this.manOrder.push(digest);
    this.desc.set(digest, { mediaType, digest, size: body.length, ...(opts.setData === true && { data: body.toString('base64') }) });
    if (opts.subject !== undefined) {
      const list = this.referrers.get(opts.subject.digest) ?? [];
      list.push({
        mediaType,
        digest,
        size: body.length,
        ...(referrer.artifactType !== undefined && referrer.artifactType !== '' && { artifactType: referrer.artifactType }),
        ...(referrer.annotations !== undefined && { annotations: referrer.annotations }),
      });
      this.referrers.set(opts.subject.digest, list);
    }
    if (opts.tag !== undefined) this.tags.set(opts.tag, digest);
    return digest;
  }

  private annotationsFor(opts: GenOpts): Record<string, string> | undefined {
    if (opts.annotationUniq !== true) return opts.annotations;
    return { ...opts.annotations, [`org.example.${randText()}`]: randText() };
  }

  genManifest(config: Descriptor, layers: Descriptor[], opts: GenOpts = {}): string {
    const annotations = this.annotationsFor(opts);
    const manifest = {
      schemaVersion: 2,
      mediaType: MT.image,
      ...(opts.artifactType !== undefined && { artifactType: opts.artifactType }),
      config,
      layers,
      ...(opts.subject !== undefined && { subject: opts.subject }),
      ...(annotations !== undefined && { annotations }),
    };
    const body = withExtraField(manifest, opts.extraField);
    const artifactType = opts.artifactType ?? config.mediaType;
    return this.record(body, MT.image, opts, { artifactType, ...(annotations !== undefined && { annotations }) });
  }

  /** An image (or artifact) with its layers and config: two gzip layers and an image config unless told otherwise. */
  genManifestFull(opts: GenOpts = {}): string {
    const layerCount = opts.layerCount ?? 2;
    const pushed: string[] = [];
    const diffIds: string[] = [];
    for (let l = 0; l < layerCount; l++) {
      if (opts.layerMediaType === undefined || opts.layerMediaType.startsWith(MT.layerPrefix)) {
        const layer = this.genLayer(l, opts);
        pushed.push(layer.digest);
        diffIds.push(layer.diffId);
      } else {
        const artifactOpts = { ...opts, descriptorMediaType: opts.layerMediaType };
        const digest = opts.layerBytes !== undefined ? this.addBlob(opts.layerBytes, artifactOpts) : this.genBlob(artifactOpts).digest;
        pushed.push(digest);
        diffIds.push(digest);
      }
    }
    let configDigest: string;
    if (opts.configMediaType === undefined || opts.configMediaType === MT.config) {
      configDigest = this.genConfig(opts.platform ?? AMD64, diffIds, opts);
    } else {
      configDigest = this.addBlob(opts.configBytes ?? Buffer.alloc(0), { ...opts, descriptorMediaType: opts.configMediaType });
    }
    return this.genManifest(this.descriptor(configDigest), pushed.map((d) => this.descriptor(d)), opts);
  }

  genIndex(platforms: (Platform | undefined)[], manifests: string[], opts: GenOpts = {}): string {
    if (platforms.length !== manifests.length) throw new Error('genIndex needs one platform per manifest');
    const annotations = this.annotationsFor(opts);
    const index = {
      schemaVersion: 2,
      mediaType: MT.index,
      ...(opts.artifactType !== undefined && { artifactType: opts.artifactType }),
      manifests: manifests.map((digest, i) => {
        const platform = platforms[i];
        return { ...this.descriptor(digest), ...(platform !== undefined && { platform }) };
      }),
      ...(opts.subject !== undefined && { subject: opts.subject }),
      ...(annotations !== undefined && { annotations }),
    };
    const body = withExtraField(index, opts.extraField);
    return this.record(body, MT.index, opts, {
      ...(opts.artifactType !== undefined && { artifactType: opts.artifactType }),
      ...(annotations !== undefined && { annotations }),
    });
  }

  /** An index of one full image per platform (amd64 and arm64 unless told otherwise). */
  genIndexFull(opts: GenOpts = {}): string {
    const platforms = opts.platforms ?? [AMD64, ARM64];
    const images = platforms.map((p) => this.genManifestFull({ ...opts, ...(p !== undefined && { platform: p }) }));
    return this.genIndex(platforms, images, opts);
  }

  descriptor(digest: string): Descriptor {
    const d = this.desc.get(digest);
    if (d === undefined) throw new Error(`no descriptor for ${digest}`);
    return { ...d };
  }

  /** The manifest's bytes; throws when the data set has none under that digest. */
  manifest(digest: string): Buffer {
    const bytes = this.manifests.get(digest);
    if (bytes === undefined) throw new Error(`no manifest ${digest}`);
    return bytes;
  }
}

/** The `mediaType` a manifest declares (an image manifest when it declares none), as the suite detects it. */
export function detectMediaType(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { mediaType?: unknown };
    return typeof parsed.mediaType === 'string' ? parsed.mediaType : MT.image;
  } catch {
    return MT.image;
  }
}

export function detectSubject(body: Buffer): Descriptor | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { subject?: Descriptor };
    return parsed.subject ?? undefined;
  } catch {
    return undefined;
  }
}
