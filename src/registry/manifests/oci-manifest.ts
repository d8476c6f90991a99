/** OCI image manifest (`application/vnd.oci.image.manifest.v1+json`), image-spec v1.1. */
import {
  optionalAnnotations, optionalArray, optionalMediaType, parseDescriptor, requireSchemaVersion2, invalid, type Descriptor,
} from './descriptor.js';
import type { ManifestValidator } from './manifest-info.js';
import { FOREIGN_LAYER_TYPES, OCI_MANIFEST } from './media-types.js';

/** Layers the registry must hold: all but foreign/non-distributable ones that say where they live. */
export function requiredLayers(layers: readonly Descriptor[]): Descriptor[] {
  return layers.filter((l) => !(FOREIGN_LAYER_TYPES.includes(l.mediaType) && (l.urls?.length ?? 0) > 0));
}

export const validateOciManifest: ManifestValidator = (m) => {
  requireSchemaVersion2(m);
  if (m['config'] === undefined) throw invalid('config', 'is required');
  const config = parseDescriptor(m['config'], 'config');
  const layers = optionalArray(m, 'layers', '$').map((l, i) => parseDescriptor(l, `layers[${i}]`));
  const artifactType = optionalMediaType(m, 'artifactType', '$');
  const subject = m['subject'] === undefined ? undefined : parseDescriptor(m['subject'], 'subject');
  const annotations = optionalAnnotations(m, 'annotations', '$');
  return {
    mediaType: OCI_MANIFEST,
    blobs: [config, ...requiredLayers(layers)],
    layers,
    manifests: [],
    ...(subject !== undefined && { subject }),
    artifactType: artifactType ?? config.mediaType,
    ...(annotations !== undefined && { annotations }),
  };
};
