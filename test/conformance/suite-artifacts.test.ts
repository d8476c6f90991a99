/**
 * Data-driven conformance suite, artifact data sets (GenerateData in run.go of the rewrite): an artifact
 * with an empty config, an index of artifacts, an artifact whose only layer is the empty JSON, artifacts
 * and a plain image referring to an image (referrers listed and filtered by each artifactType), an
 * artifact index with a subject (its images inherit the subject, so they are referrers too), and an
 * artifact whose subject was never pushed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { SuiteApi } from './suite-api.js';
import { MT } from './suite-data.js';
import { ARTIFACT_SETS } from './suite-sets.js';
import { dataSetSteps } from './suite-flow.js';

describe('conformance suite: artifact data sets', () => {
  let wharf: TestWharf;
  let api: SuiteApi;
  before(async () => {
    wharf = await startTestWharf();
    api = new SuiteApi(wharf.url);
  });
  after(async () => wharf.stop());

  it('the data sets refer as the suite generates them', () => {
    const withSubject = ARTIFACT_SETS['artifacts-with-subject']();
    const [goals] = [...withSubject.referrers.values()];
    assert.deepEqual(goals?.map((g) => g.artifactType).sort(), [MT.config, MT.example1, MT.example2].sort());
    const indexSubject = ARTIFACT_SETS['index-with-subject']();
    const [indexGoals] = [...indexSubject.referrers.values()];
    assert.deepEqual(indexGoals?.map((g) => g.mediaType), [MT.image, MT.image, MT.index]);
    assert.ok(indexGoals?.every((g) => g.artifactType === MT.example1));
  });

  for (const [key, make] of Object.entries(ARTIFACT_SETS)) dataSetSteps(key, make, () => api);
});
