/** Docker image manifest, schema 2 (`application/vnd.docker.distribution.manifest.v2+json`). */
import { invalid, parseDescriptor, requireArray, requireSchemaVersion2 } from './descriptor.js';
import type { ManifestValidator } from './manifest-info.js';
import { DOCKER_MANIFEST } from './media-types.js';
import { requiredLayers } from './oci-manifest.js';

export const validateDockerSchema2: ManifestValidator = (m) => {
  requireSchemaVersion2(m);
  if (m['mediaType'] !== DOCKER_MANIFEST) throw invalid('mediaType', `must be ${DOCKER_MANIFEST}`);
  if (m['config'] === undefined) throw invalid('config', 'is required');
  const config = parseDescriptor(m['config'], 'config');
  const layers = requireArray(m, 'layers', '$').map((l, i) => parseDescriptor(l, `layers[${i}]`));
  return { mediaType: DOCKER_MANIFEST, blobs: [config, ...requiredLayers(layers)], layers, manifests: [], artifactType: config.mediaType };
};
