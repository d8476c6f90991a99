import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateManifest } from '../../src/registry/manifests/validate.js';
import { DEFAULT_REFERENCE_POLICY, requiredReferences } from '../../src/registry/manifests/references.js';
import { RegistryError } from '../../src/registry/errors.js';
import { referencePolicy } from '../../src/cli/serve.js';
import { resolveConfig } from '../../src/config/load.js';

const d = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const NONDIST = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';

function manifest(layers: object[]) {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d(1), size: 2 },
    layers,
  }));
}

const index = Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d(10), size: 1, platform: { architecture: 'amd64', os: 'linux' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d(11), size: 1, platform: { architecture: 'arm64', os: 'linux' } },
  ],
}));

describe('required references (distribution\'s validation settings)', () => {
  it('skips a non-distributable layer that says where it lives, checks every other', () => {
    const info = validateManifest(manifest([
      { mediaType: NONDIST, digest: d(2), size: 3, urls: ['https://example.com/layer'] },
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d(3), size: 3, urls: ['https://example.com/other'] },
      { mediaType: NONDIST, digest: d(4), size: 3 },
    ]), undefined);
    const required = requiredReferences(info, DEFAULT_REFERENCE_POLICY).blobs.map((b) => b.digest.value);
    assert.deepEqual(required, [d(1), d(3), d(4)]);
  });

  it('refuses layer URLs that are not http(s), carry a fragment, miss allow or hit deny', () => {
    const policy = { ...DEFAULT_REFERENCE_POLICY, urlAllow: [/^https:\/\/good\.example\//], urlDeny: [/forbidden/] };
    const ok = validateManifest(manifest([{ mediaType: NONDIST, digest: d(2), size: 1, urls: ['https://good.example/x'] }]), undefined);
    assert.doesNotThrow(() => requiredReferences(ok, policy));
    for (const url of ['ftp://good.example/x', 'https://good.example/x#frag', 'https://bad.example/x', 'https://good.example/forbidden']) {
      const info = validateManifest(manifest([{ mediaType: NONDIST, digest: d(2), size: 1, urls: [url] }]), undefined);
      assert.throws(() => requiredReferences(info, policy), (err: unknown) => err instanceof RegistryError && err.code === 'MANIFEST_INVALID', url);
    }
  });

  it('checks nothing with validation disabled, and index children by the platforms setting', () => {
    const info = validateManifest(index, undefined);
    assert.deepEqual(requiredReferences(info, { ...DEFAULT_REFERENCE_POLICY, verify: false }), { blobs: [], manifests: [] });
    assert.equal(requiredReferences(info, DEFAULT_REFERENCE_POLICY).manifests.length, 2);
    assert.equal(requiredReferences(info, { ...DEFAULT_REFERENCE_POLICY, indexPlatforms: 'none' }).manifests.length, 0);
    const listed = requiredReferences(info, { ...DEFAULT_REFERENCE_POLICY, indexPlatforms: 'list', platformList: [{ architecture: 'arm64', os: 'linux' }] });
    assert.deepEqual(listed.manifests.map((m) => m.digest.value), [d(11)]);
  });

  it('is built from the configuration', () => {
    const { config } = resolveConfig({
      version: '0.1',
      storage: { inmemory: null },
      validation: { disabled: false, manifests: { urls: { allow: ['(?i)^HTTPS://'], deny: ['internal'] }, indexes: { platforms: 'list', platformlist: [{ architecture: 'amd64', os: 'linux' }] } } },
    }, 'test', {});
    const policy = referencePolicy(config.validation);
    assert.equal(policy.verify, true);
    assert.ok(policy.urlAllow[0]?.test('https://x'), 'the (?i) flag of a Go pattern is kept');
    assert.ok(policy.urlDeny[0]?.test('https://internal/x'));
    assert.equal(policy.indexPlatforms, 'list');
  });
});
