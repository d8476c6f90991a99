/**
 * Builds images offline for end-to-end tests: tar layers (ustar), OCI image configs and manifests,
 * and OCI image layout directories that skopeo, podman and umoci read (`oci:<dir>:<tag>`).
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface LayoutBlob {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly content: Buffer;
}

function blob(mediaType: string, content: Buffer): LayoutBlob {
  return { mediaType, digest: `sha256:${createHash('sha256').update(content).digest('hex')}`, size: content.length, content };
}

function tarHeader(name: string, size: number, mode: number, type: '0' | '5'): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write(`${mode.toString(8).padStart(7, '0')}\0`, 100, 8, 'ascii');
  header.write('0000000\0', 108, 8, 'ascii');
  header.write('0000000\0', 116, 8, 'ascii');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  header.write(`${(1_700_000_000).toString(8).padStart(11, '0')}\0`, 136, 12, 'ascii');
  header.write('        ', 148, 8, 'ascii');
  header.write(type, 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

/** A tar archive of the given files (paths relative, `/`-separated; parent directories added). */
export function tar(files: Readonly<Record<string, Buffer | string>>): Buffer {
  const parts: Buffer[] = [];
  const dirs = new Set<string>();
  for (const path of Object.keys(files)) {
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) dirs.add(segments.slice(0, i).join('/'));
  }
  for (const dir of [...dirs].sort()) parts.push(tarHeader(`${dir}/`, 0, 0o755, '5'));
  for (const [path, data] of Object.entries(files)) {
    const content = typeof data === 'string' ? Buffer.from(data) : data;
    parts.push(tarHeader(path, content.length, 0o644, '0'), content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export interface BuiltImage {
  readonly manifest: LayoutBlob;
  readonly config: LayoutBlob;
  readonly layers: readonly LayoutBlob[];
  readonly platform: { readonly architecture: string; readonly os: string };
}

/** An OCI image whose layers are gzipped tars of the given file sets. */
export function buildImage(layerFiles: ReadonlyArray<Readonly<Record<string, Buffer | string>>>, platform = { architecture: 'amd64', os: 'linux' }): BuiltImage {
  const tars = layerFiles.map((files) => tar(files));
  const layers = tars.map((t) => blob('application/vnd.oci.image.layer.v1.tar+gzip', gzipSync(t)));
  const diffIds = tars.map((t) => `sha256:${createHash('sha256').update(t).digest('hex')}`);
  const config = blob('application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify({
    created: '2026-01-01T00:00:00Z',
    architecture: platform.architecture,
    os: platform.os,
    config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map(() => ({ created: '2026-01-01T00:00:00Z', created_by: 'wharf test' })),
  })));
  const manifest = blob('application/vnd.oci.image.manifest.v1+json', Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  })));
  return { manifest, config, layers, platform };
}

/** An OCI index over several images. */
export function buildIndex(images: readonly BuiltImage[]): LayoutBlob {
  return blob('application/vnd.oci.image.index.v1+json', Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: images.map((i) => ({ mediaType: i.manifest.mediaType, digest: i.manifest.digest, size: i.manifest.size, platform: i.platform })),
  })));
}

/** Writes an OCI image layout holding the blobs, with `top` tagged `tag` in index.json. */
export async function writeLayout(dir: string, tag: string, top: LayoutBlob, blobs: readonly LayoutBlob[]): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  for (const b of [top, ...blobs]) await writeFile(join(dir, 'blobs', 'sha256', b.digest.slice('sha256:'.length)), b.content);
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: top.mediaType, digest: top.digest, size: top.size, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
}

/** Every blob of an image. */
export function imageBlobs(image: BuiltImage): LayoutBlob[] {
  return [image.manifest, image.config, ...image.layers];
}
