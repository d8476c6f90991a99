/**
 * The data sets of the data-driven conformance suite (GenerateData in run.go of its rewrite), in the
 * order it runs them, each a factory of fresh random content.
 */
import { randomBytes } from 'node:crypto';
import { MT, TestData, digestOf, type Algo, type Descriptor, type GenOpts, type Platform } from './suite-data.js';

const AMD64: Platform = { architecture: 'amd64', os: 'linux' };
const ARM64: Platform = { architecture: 'arm64', os: 'linux' };


const ARTIFACT: GenOpts = {
  artifactType: MT.example1,
  configMediaType: MT.emptyJson,
  configBytes: Buffer.from('{}'),
  layerCount: 1,
  layerMediaType: MT.example1,
};
const HELLO = { 'org.opencontainers.conformance': 'hello conformance test' };

function dataSet(name: string, fill: (td: TestData) => void): () => TestData {
  return () => {
    const td = new TestData(name);
    fill(td);
    return td;
  };
}

export const IMAGE_SETS = {
  image: dataSet('Image', (td) => td.genManifestFull({ tag: 'image' })),
  'image-uncompressed': dataSet('Image Uncompressed', (td) => td.genManifestFull({ tag: 'image-uncompressed', compress: false })),
  'large-manifest': dataSet('Image with Large Manifest', (td) => {
    const annotations: Record<string, string> = {};
    for (let i = 0; i < 390; i++) annotations[`large-annotation-${i}`] = 'A'.repeat(10000);
    td.genManifestFull({ tag: 'large-manifest', annotations });
  }),
  index: dataSet('Index', (td) => td.genIndexFull({ tag: 'index', platforms: [AMD64, ARM64] })),
  'nested-index': dataSet('Nested Index', (td) => {
    const first = td.genIndexFull({ platforms: [AMD64, ARM64] });
    const second = td.genIndexFull({ platforms: [AMD64, ARM64] });
    td.genIndex([undefined, undefined], [first, second], { tag: 'index-of-index' });
  }),
  'empty-index': dataSet('Empty Index', (td) => td.genIndexFull({ tag: 'index', platforms: [] })),
  'data-field': dataSet('Data Field', (td) => td.genManifestFull({ tag: 'data-field', setData: true })),
  'non-distributable-layers': dataSet('Non-distributable Layers', (td) => {
    const foreign = (mediaType: string, size: number): Descriptor => {
      const digest = digestOf('sha256', randomBytes(256));
      return { mediaType, digest, size, urls: [`https://store.example.com/blobs/sha256/${digest.slice('sha256:'.length)}`] };
    };
    const gz = foreign(MT.layerNdGzip, 123456);
    const plain = foreign(MT.layerNd, 12345);
    const normal = td.genLayer(1);
    const config = td.genConfig(AMD64, [digestOf('sha256', randomBytes(256)), plain.digest, normal.diffId]);
    td.genManifest(td.descriptor(config), [gz, plain, td.descriptor(normal.digest)], { tag: 'non-distributable-image' });
  }),
  'custom-fields': dataSet('Custom Fields', (td) => td.genIndexFull({ tag: 'custom-fields', platforms: [AMD64, ARM64], extraField: true })),
  'no-layers': dataSet('No Layers', (td) => td.genManifestFull({ tag: 'no-layers', layerCount: 0 })),
  sha512: dataSet('Digest Algorithm sha512', (td) => td.genIndexFull({ algo: 'sha512' })),
} as const;

export const ARTIFACT_SETS = {
  artifact: dataSet('Artifact', (td) => td.genManifestFull({ tag: 'artifact', ...ARTIFACT })),
  'artifact-index': dataSet('Artifact Index', (td) => td.genIndexFull({ tag: 'artifact-index', platforms: [AMD64, ARM64], ...ARTIFACT })),
  'artifact-without-layers': dataSet('Artifact without Layers', (td) => td.genManifestFull({
    tag: 'artifact-without-layers', ...ARTIFACT, layerBytes: Buffer.from('{}'), layerMediaType: MT.emptyJson,
  })),
  'artifacts-with-subject': dataSet('Artifacts with Subject', (td) => {
    const subject = td.descriptor(td.genManifestFull({ tag: 'image' }));
    td.genManifestFull({ subject });
    const common = { ...ARTIFACT, annotations: HELLO, annotationUniq: true, subject };
    td.genManifestFull({ ...common, tag: 'tagged-artifact1' });
    td.genManifestFull({ ...common, artifactType: MT.example2, layerMediaType: MT.octetStream, tag: 'tagged-artifact2' });
  }),
  'index-with-subject': dataSet('Index with Subject', (td) => {
    const subject = td.descriptor(td.genIndexFull({ tag: 'index' }));
    td.genIndexFull({ ...ARTIFACT, annotations: HELLO, annotationUniq: true, subject, tag: 'tagged-artifact' });
  }),
  'missing-subject': dataSet('Missing Subject', (td) => {
    const subject: Descriptor = { mediaType: MT.image, digest: digestOf('sha256', 'missing content'), size: 123 };
    td.genManifestFull({ ...ARTIFACT, annotations: HELLO, annotationUniq: true, subject, tag: 'tagged-artifact' });
  }),
} as const;

/** Tag parameters: every manifest is pushed by digest with `?tag=<set>-<i>`, and the top index also with `?tag=<set>`. */
function tagParamSet(tag: string, algo: Algo): () => TestData {
  return dataSet(`Tag Param ${algo}`, (td) => {
    td.genIndexFull({ tag, algo });
    td.manOrder.forEach((digest, i) => {
      td.tags.set(`${tag}-${i}`, digest);
      td.tagParam.add(digest);
    });
  });
}

export const PUSH_VARIANT_SETS = {
  'tag-param-sha256': tagParamSet('tag-param-sha256', 'sha256'),
  'tag-param-sha512': tagParamSet('tag-param-sha512', 'sha512'),
  'bad-digest-image': dataSet('Bad Digest Image', (td) => {
    const digest = td.genManifestFull();
    td.badDigest.add(digest);
    td.manifests.set(digest, Buffer.concat([td.manifest(digest), Buffer.from('  ')]));
  }),
} as const;

/**
 * Manifests that list content the registry never received: an image whose first layer was never
 * pushed, and an index whose second image does not exist. The suite only runs this set when told to.
 */
export function sparseSet(): { td: TestData; image: string; index: string; missingLayer: string; missingChild: string } {
  const td = new TestData('Sparse Manifests');
  const image = td.genManifestFull({ tag: 'sparse-image' });
  const layerDigest = [...td.blobs.keys()].find((d) => td.desc.get(d)?.mediaType.startsWith(MT.layerPrefix));
  if (layerDigest === undefined) throw new Error('the sparse image has no layer');
  td.blobs.delete(layerDigest);
  td.desc.delete(layerDigest);
  const child = td.genManifestFull({ platform: AMD64 });
  const missingChild = digestOf('sha256', randomBytes(1024));
  td.desc.set(missingChild, { mediaType: MT.image, digest: missingChild, size: 1024 });
  const index = td.genIndex([AMD64, ARM64], [child, missingChild], { tag: 'sparse-index' });
  return { td, image, index, missingLayer: layerDigest, missingChild };
}
