/** Manifest media types Wharf knows, and which of them it accepts. */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json';
export const DOCKER_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

export type ManifestMediaType = typeof OCI_MANIFEST | typeof OCI_INDEX | typeof DOCKER_MANIFEST | typeof DOCKER_MANIFEST_LIST;

export const ACCEPTED_MANIFEST_TYPES: readonly ManifestMediaType[] = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST];
export const SCHEMA1_TYPES: readonly string[] = [DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED];

export function isManifestMediaType(type: string): type is ManifestMediaType {
  return (ACCEPTED_MANIFEST_TYPES as readonly string[]).includes(type);
}

/** Layer media types whose content lives elsewhere (`urls`), so the registry need not hold them. */
export const FOREIGN_LAYER_TYPES: readonly string[] = [
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
];

/** RFC 6838 media type (type/subtype with optional suffixes), without parameters. */
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

export function isValidMediaType(type: string): boolean {
  return MEDIA_TYPE.test(type);
}

/** The media type of a Content-Type header, without parameters, lower-cased; '' when absent. */
export function mediaTypeOf(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}
