/**
 * The azure driver against azurite, beyond the shared suite: the committed block list is the whole
 * state of an upload (so any instance resumes it), and blobs distribution wrote (append blobs, block
 * blobs of other block sizes) are read, replaced and continued as the driver promises.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { createStorageDriver } from '../../src/storage/drivers.js';
import { StorageError, type StorageDriver } from '../../src/storage/driver.js';
import { MAX_FILE_SIZE, blockSize } from '../../src/storage/azure/azure-blocks.js';
import { endWriter, readAll, write } from '../../src/storage/testing/driver-suite.js';
import { AZURITE_ACCOUNT, AZURITE_CONTAINER, AZURITE_KEY, startAzurite, type RunningAzurite } from '../helpers/azurite.js';

const MiB = 1024 * 1024;

describe('the azure driver on azurite: block layout and distribution-written blobs', () => {
  let azurite: RunningAzurite;
  let container: ContainerClient;
  const driver = (): Promise<StorageDriver> => createStorageDriver('azure', azurite.parameters('/layout'));

  before(async () => {
    azurite = await startAzurite();
    container = new BlobServiceClient(azurite.serviceURL, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY)).getContainerClient(AZURITE_CONTAINER);
  });
  after(async () => {
    await azurite.close();
  });

  it('keeps an upload in the committed block list: full blocks kept, the short last one staged again by the next writer', async () => {
    const path = '/docker/registry/v2/repositories/r/_uploads/u1/data';
    const blob = container.getBlockBlobClient(`layout${path}`);
    const content = randomBytes(2 * blockSize(0) + 123);
    const first = await driver();
    const w1 = await first.writer(path);
    await write(w1, content.subarray(0, blockSize(0) + 100));
    await endWriter(w1);
    let list = await blob.getBlockList('committed');
    assert.deepEqual(list.committedBlocks?.map((b) => b.size), [blockSize(0), 100], 'end() commits what was written');
    assert.equal((await blob.getBlockList('uncommitted')).uncommittedBlocks?.length ?? 0, 0);

    // Another driver (another instance) continues from the block list alone.
    const second = await driver();
    const w2 = await second.writer(path, { append: true });
    assert.equal(w2.size, blockSize(0) + 100);
    await write(w2, content.subarray(blockSize(0) + 100));
    await w2.commit();
    list = await blob.getBlockList('committed');
    assert.deepEqual(list.committedBlocks?.map((b) => b.size), [blockSize(0), blockSize(1), 123]);
    assert.deepEqual(await readAll(await first.reader(path)), content);
    await first.delete('/docker');
  });

  it('sizes blocks so that 50,000 of them hold 2.4 TiB, with at most 3 blocks in memory per upload', () => {
    assert.equal(blockSize(0), 8 * MiB);
    assert.equal(blockSize(9_999), 8 * MiB);
    assert.equal(blockSize(10_000), 16 * MiB);
    assert.equal(blockSize(49_999), 128 * MiB);
    assert.ok(MAX_FILE_SIZE > 2.3 * 1024 ** 4 && MAX_FILE_SIZE < 2.5 * 1024 ** 4, `${MAX_FILE_SIZE}`);
  });

  it('reads append blobs (distribution uploads), replaces them by putContent and a new writer, refuses to continue them', async () => {
    const d = await driver();
    const names = ['link', 'data', 'upload'].map((n) => `layout/dist/${n}`);
    for (const name of names) {
      const append = container.getAppendBlobClient(name);
      await append.create();
      await append.appendBlock(Buffer.from('written by '), 11);
      await append.appendBlock(Buffer.from('distribution'), 12);
    }
    assert.equal((await d.getContent('/dist/link')).toString(), 'written by distribution');
    assert.equal((await readAll(await d.reader('/dist/data', { offset: 11 }))).toString(), 'distribution');
    assert.equal((await d.stat('/dist/data')).size, 23);

    await d.putContent('/dist/link', Buffer.from('sha256:abc'));
    assert.equal((await d.getContent('/dist/link')).toString(), 'sha256:abc');
    assert.equal((await container.getBlobClient('layout/dist/link').getProperties()).blobType, 'BlockBlob');

    const fresh = await d.writer('/dist/data');
    await write(fresh, 'by wharf');
    await fresh.commit();
    assert.equal((await d.getContent('/dist/data')).toString(), 'by wharf');

    await assert.rejects(d.writer('/dist/upload', { append: true }), (err: unknown) => err instanceof StorageError && /AppendBlob .*start the upload again/.test(err.message));
    await d.delete('/dist');
  });

  it('continues a block blob laid out by another tool by reading it back first', async () => {
    const d = await driver();
    const blob = container.getBlockBlobClient('layout/foreign/data');
    await blob.stageBlock(Buffer.from('a').toString('base64'), Buffer.from('foreign '), 8);
    await blob.stageBlock(Buffer.from('b').toString('base64'), Buffer.from('bytes '), 6);
    await blob.commitBlockList([Buffer.from('a').toString('base64'), Buffer.from('b').toString('base64')]);
    const w = await d.writer('/foreign/data', { append: true });
    assert.equal(w.size, 14);
    await write(w, 'and more');
    await endWriter(w);
    assert.equal((await d.getContent('/foreign/data')).toString(), 'foreign bytes and more');
    await d.delete('/foreign');
  });
});
