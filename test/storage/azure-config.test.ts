/**
 * The azure driver's configuration (distribution's keys, names and defaults; refusals) and the
 * parts azurite cannot exercise: SAS signing with a user delegation key (Entra ID credentials,
 * which azurite does not issue over plain HTTP) and the copy status polling of a move (azurite
 * completes every copy at once), both against fakes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UserDelegationKey } from '@azure/storage-blob';
import { azureOptions } from '../../src/storage/azure/azure-config.js';
import { DelegationSigner, signedBlobURL } from '../../src/storage/azure/azure-client.js';
import { copyBlob, type CopyTarget } from '../../src/storage/azure/azure-copy.js';
import { driverParameters } from '../../src/cli/serve.js';
import { load, problemsOf } from '../config/helpers.js';

const BASE = 'version: 0.1\nstorage:\n  azure:\n    accountname: acct\n    container: registry\n';

describe('storage.azure configuration', () => {
  it('takes distribution keys with distribution defaults', async () => {
    const { config } = await load(`${BASE}    accountkey: a2V5\n`);
    assert.ok(config.storage.driver === 'azure');
    const o = azureOptions(driverParameters(config.storage, config.wharf.s3));
    assert.equal(o.serviceURL, 'https://acct.blob.core.windows.net');
    assert.equal(o.container, 'registry');
    assert.equal(o.rootDirectory, '');
    assert.deepEqual(o.credentials, { type: 'shared_key' });
    assert.equal(o.maxRetries, 5);
    assert.equal(o.retryDelayMs, 100);
  });

  it('takes realm, serviceurl, rootdirectory, retries and Entra ID credentials', async () => {
    const china = await load(`${BASE}    accountkey: a2V5\n    realm: core.chinacloudapi.cn\n    rootdirectory: /a/b/\n    max_retries: -1\n    retry_delay: 1.5s\n`);
    const o = azureOptions(driverParameters(china.config.storage, china.config.wharf.s3));
    assert.equal(o.serviceURL, 'https://acct.blob.core.chinacloudapi.cn');
    assert.equal(o.rootDirectory, 'a/b');
    assert.equal(o.maxRetries, -1);
    assert.equal(o.retryDelayMs, 1500);
    const sp = await load(`${BASE}    serviceurl: http://127.0.0.1:10000/acct/\n    copy_status_poll_max_retry: 9\n    copy_status_poll_delay: 1m\n    credentials:\n      type: client_secret\n      clientid: c\n      tenantid: t\n      secret: s\n`);
    const p = azureOptions(driverParameters(sp.config.storage, sp.config.wharf.s3));
    assert.equal(p.serviceURL, 'http://127.0.0.1:10000/acct');
    assert.deepEqual(p.credentials, { type: 'client_secret', clientId: 'c', tenantId: 't', secret: 's' });
    assert.equal(p.maxRetries, 9);
    assert.equal(p.retryDelayMs, 60_000);
    const env = await load(BASE, { REGISTRY_STORAGE_AZURE_CREDENTIALS_TYPE: 'default_credentials', REGISTRY_STORAGE_AZURE_MAXRETRIES: '2', REGISTRY_STORAGE_AZURE_RETRYDELAY: '10ms' });
    const q = azureOptions(driverParameters(env.config.storage, env.config.wharf.s3));
    assert.deepEqual(q.credentials, { type: 'default_credentials' });
    assert.equal(q.maxRetries, 2);
    assert.equal(q.retryDelayMs, 10);
  });

  it('refuses what it cannot honour, naming the key', async () => {
    assert.match((await problemsOf(`${BASE}    connectionstring: DefaultEndpointsProtocol=https\n`)).join(), /storage\.azure\.connectionstring: .*not supported yet/);
    assert.match((await problemsOf(`${BASE}    accountkey: k\n    skipverify: true\n`)).join(), /storage\.azure\.skipverify: .*not supported yet/);
    assert.equal((await load(`${BASE}    accountkey: k\n    skipverify: false\n`)).config.storage.driver, 'azure');
    assert.match((await problemsOf(`${BASE}    credentials:\n      type: managed\n`)).join(), /storage\.azure\.credentials\.type/);
    assert.match((await problemsOf(`${BASE}    retry_delay: soon\n`)).join(), /storage\.azure\.retry_delay: must be a duration/);
    assert.match((await problemsOf(`${BASE}    accoutnkey: k\n`)).join(), /accoutnkey/);
    assert.match((await problemsOf('version: 0.1\nstorage:\n  azure:\n    accountname: a\n')).join(), /storage\.azure\.container/);
    // Checked when the driver is made: shared key needs the key, client_secret its three values.
    assert.throws(() => azureOptions({ accountname: 'a', container: 'c' }), /storage\.azure\.accountkey is required/);
    assert.throws(() => azureOptions({ accountname: 'a', container: 'c', credentials: { type: 'client_secret', clientid: 'x' } }), /storage\.azure\.credentials\.tenantid is required/);
    assert.throws(() => azureOptions({ accountname: 'a', container: 'c', accountkey: 'k', serviceurl: 'ftp://x' }), /storage\.azure\.serviceurl must be an http/);
  });
});

describe('azure SAS URLs with a user delegation key', () => {
  it('signs read-only URLs with a delegation key fetched once and reused', async () => {
    let fetched = 0;
    const key: UserDelegationKey = {
      signedObjectId: 'oid-1',
      signedTenantId: 'tid-1',
      signedStartsOn: new Date(),
      signedExpiresOn: new Date(Date.now() + 48 * 3600_000),
      signedService: 'b',
      signedVersion: '2025-01-05',
      value: Buffer.from('delegation key bytes').toString('base64'),
    };
    const signer = new DelegationSigner({ getUserDelegationKey: async () => (fetched++, key) }, 'acct');
    const url = new URL(await signedBlobURL(signer, 'registry', 'docker/x/data', 'https://acct.blob.core.windows.net/registry/docker/x/data', 1200));
    const again = new URL(await signedBlobURL(signer, 'registry', 'docker/y/data', 'https://acct.blob.core.windows.net/registry/docker/y/data', 1200));
    assert.equal(fetched, 1, 'the key is reused while valid');
    assert.equal(url.searchParams.get('skoid'), 'oid-1');
    assert.equal(url.searchParams.get('sktid'), 'tid-1');
    assert.equal(url.searchParams.get('sp'), 'r');
    assert.equal(url.searchParams.get('spr'), 'https', 'HTTPS only for an HTTPS service');
    assert.ok(url.searchParams.get('sig'));
    assert.notEqual(url.searchParams.get('sig'), again.searchParams.get('sig'));
  });
});

describe('azure move: copy status polling', () => {
  function fakeTarget(statuses: string[]): CopyTarget & { polls: number; aborted: string[] } {
    const target = {
      polls: 0,
      aborted: [] as string[],
      beginCopyFromURL: async () => {
        const first = statuses[0];
        return {
          getOperationState: () => ({ copyId: 'copy-1' }),
          isDone: () => first === 'success',
          getResult: () => (first === 'success' ? { copyStatus: 'success', copyId: 'copy-1' } : undefined),
        };
      },
      getProperties: async () => {
        target.polls++;
        const status = statuses[Math.min(target.polls, statuses.length - 1)];
        return { copyStatus: status, copyId: 'copy-1', copyStatusDescription: status === 'failed' ? 'source gone' : undefined };
      },
      abortCopyFromURL: async (id: string) => {
        target.aborted.push(id);
        return {};
      },
    };
    return target as unknown as CopyTarget & { polls: number; aborted: string[] };
  }
  const fast = { maxRetries: 5, retryDelayMs: 1 };

  it('waits for a pending copy to succeed', async () => {
    const target = fakeTarget(['pending', 'pending', 'pending', 'success']);
    await copyBlob(target, 'https://src?sig', fast);
    assert.equal(target.polls, 3);
    assert.deepEqual(target.aborted, []);
  });

  it('aborts a copy still pending after max_retries polls, and at once with -1', async () => {
    const slow = fakeTarget(['pending']);
    await assert.rejects(copyBlob(slow, 'https://src?sig', fast), /did not complete after 5 status polls/);
    assert.equal(slow.polls, 5);
    assert.deepEqual(slow.aborted, ['copy-1']);
    const never = fakeTarget(['pending']);
    await assert.rejects(copyBlob(never, 'https://src?sig', { maxRetries: -1, retryDelayMs: 1 }), /aborted/);
    assert.equal(never.polls, 0);
    assert.deepEqual(never.aborted, ['copy-1']);
  });

  it('fails a move whose copy failed', async () => {
    await assert.rejects(copyBlob(fakeTarget(['pending', 'failed']), 'https://src?sig', fast), /the copy failed: source gone/);
  });
});
