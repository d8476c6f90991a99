/**
 * Data-driven conformance suite, image data sets (GenerateData in run.go of the rewrite): a plain image,
 * uncompressed layers, a manifest of about 3.9 MB (390 annotations of 10,000 bytes, under the 4 MiB cap),
 * a two-platform index, an index of indexes, an empty index, descriptors with `data`, non-distributable
 * layers the registry never receives, unknown fields in configs and manifests, an image without layers,
 * and an index whose every digest is sha512. All run in turn against one registry and repository, as
 * the suite runs them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { SuiteApi } from './suite-api.js';
import { TestData } from './suite-data.js';
import { IMAGE_SETS } from './suite-sets.js';
import { dataSetSteps } from './suite-flow.js';

describe('conformance suite: image data sets', () => {
  let wharf: TestWharf;
  let api: SuiteApi;
  before(async () => {
    wharf = await startTestWharf();
    api = new SuiteApi(wharf.url);
  });
  after(async () => wharf.stop());

  it('the large manifest is over 3.9 MB and under 4 MiB', () => {
    const td = IMAGE_SETS['large-manifest']();
    const bytes = td.manifest(td.manOrder[0] ?? '');
    assert.ok(bytes.length > 3_900_000 && bytes.length < 4 * 1024 * 1024, `${bytes.length} bytes`);
  });

  it('the sha512 data set uses sha512 for every blob and manifest', () => {
    const td: TestData = IMAGE_SETS.sha512();
    for (const digest of [...td.blobs.keys(), ...td.manOrder]) assert.match(digest, /^sha512:[0-9a-f]{128}$/);
    assert.equal(td.tags.size, 0);
  });

  for (const [key, make] of Object.entries(IMAGE_SETS)) dataSetSteps(key, make, () => api);
});
