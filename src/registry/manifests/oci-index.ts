/** OCI image index (`application/vnd.oci.image.index.v1+json`), image-spec v1.1. */
import { optionalAnnotations, optionalMediaType, parseDescriptor, requireArray, requireSchemaVersion2 } from './descriptor.js';
import type { ManifestValidator } from './manifest-info.js';
import { OCI_INDEX } from './media-types.js';

export const validateOciIndex: ManifestValidator = (m) => {
  requireSchemaVersion2(m);
  const manifests = requireArray(m, 'manifests', '$').map((d, i) => parseDescriptor(d, `manifests[${i}]`));
  const artifactType = optionalMediaType(m, 'artifactType', '$');
  const subject = m['subject'] === undefined ? undefined : parseDescriptor(m['subject'], 'subject');
  const annotations = optionalAnnotations(m, 'annotations', '$');
  return {
    mediaType: OCI_INDEX,
    blobs: [],
    layers: [],
    manifests,
    ...(subject !== undefined && { subject }),
    ...(artifactType !== undefined && { artifactType }),
    ...(annotations !== undefined && { annotations }),
  };
};
