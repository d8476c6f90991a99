/** Docker manifest list (`application/vnd.docker.distribution.manifest.list.v2+json`). */
import { invalid, parseDescriptor, requireArray, requireSchemaVersion2 } from './descriptor.js';
import type { ManifestValidator } from './manifest-info.js';
import { DOCKER_MANIFEST_LIST } from './media-types.js';

export const validateDockerManifestList: ManifestValidator = (m) => {
  requireSchemaVersion2(m);
  if (m['mediaType'] !== DOCKER_MANIFEST_LIST) throw invalid('mediaType', `must be ${DOCKER_MANIFEST_LIST}`);
  const manifests = requireArray(m, 'manifests', '$').map((d, i) => parseDescriptor(d, `manifests[${i}]`, { requirePlatform: true }));
  return { mediaType: DOCKER_MANIFEST_LIST, blobs: [], layers: [], manifests };
};
