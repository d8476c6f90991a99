/** A small registry client for tests: raw requests plus the usual push steps. */
import { createHash, randomBytes } from 'node:crypto';

export function sha256(content: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

export function sha512(content: Uint8Array | string): string {
  return `sha512:${createHash('sha512').update(content).digest('hex')}`;
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

export class TestClient {
  constructor(readonly base: string) {}

  /** A request to a path below the base URL (or an absolute URL, e.g. a Location). */
  request(path: string, init: RequestInit = {}): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    return fetch(url, { redirect: 'manual', ...init, ...(init.body !== undefined && { duplex: 'half' }) } as RequestInit);
  }

  /** Pushes a blob with POST + PUT and returns its descriptor. */
  async pushBlob(name: string, content: Uint8Array, mediaType = OCI_LAYER): Promise<Descriptor> {
    const digest = sha256(content);
    const start = await this.request(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202) throw new Error(`POST upload: ${start.status} ${await start.text()}`);
    const location = start.headers.get('location') ?? '';
    const put = await this.request(`${location}${location.includes('?') ? '&' : '?'}digest=${digest}`, {
      method: 'PUT',
      body: content,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    if (put.status !== 201) throw new Error(`PUT upload: ${put.status} ${await put.text()}`);
    return { mediaType, digest, size: content.length };
  }

  /** Pushes a manifest by tag or digest and returns its descriptor. */
  async pushManifest(name: string, reference: string, manifest: object | string, mediaType = OCI_MANIFEST): Promise<Descriptor & { response: Response }> {
    const body = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
    const response = await this.request(`/v2/${name}/manifests/${reference}`, { method: 'PUT', body, headers: { 'Content-Type': mediaType } });
    if (response.status !== 201) throw new Error(`PUT manifest: ${response.status} ${await response.text()}`);
    return { mediaType, digest: sha256(body), size: Buffer.byteLength(body), response };
  }

  /** Pushes a random image (config + layers) and its manifest; returns the manifest's descriptor and parts. */
  async pushImage(name: string, reference: string, options: { layers?: number; layerSize?: number; subject?: Descriptor; artifactType?: string; annotations?: Record<string, string> } = {}) {
    const config = await this.pushBlob(name, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') })), OCI_CONFIG);
    const layers: Descriptor[] = [];
    for (let i = 0; i < (options.layers ?? 1); i++) layers.push(await this.pushBlob(name, randomBytes(options.layerSize ?? 1024)));
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      ...(options.artifactType !== undefined && { artifactType: options.artifactType }),
      config,
      layers,
      ...(options.subject !== undefined && { subject: { mediaType: options.subject.mediaType, digest: options.subject.digest, size: options.subject.size } }),
      ...(options.annotations !== undefined && { annotations: options.annotations }),
    };
    const pushed = await this.pushManifest(name, reference, manifest);
    return { ...pushed, manifest, config, layers };
  }
}

export async function errorCode(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { errors?: { code?: string }[] };
  return body.errors?.[0]?.code;
}
