/**
 * Three Wharf processes on one Azure container (azurite): see test/helpers/many-instances.ts.
 * Configured through REGISTRY_STORAGE_AZURE_* variables only, which also tests those overrides.
 */
import { createStorageDriver } from '../../src/storage/drivers.js';
import { blockSize } from '../../src/storage/azure/azure-blocks.js';
import { manyInstancesSuite } from '../helpers/many-instances.js';
import { startAzurite } from '../helpers/azurite.js';

manyInstancesSuite({
  name: 'Azure container (azurite)',
  part: blockSize(0),
  chunkMinLength: null,
  signature: /[?&]sig=/,
  start: async () => {
    const azurite = await startAzurite();
    const env: Record<string, string> = { REGISTRY_STORAGE: 'azure', REGISTRY_STORAGE_DELETE_ENABLED: 'true' };
    for (const [key, value] of Object.entries(azurite.parameters('/many'))) env[`REGISTRY_STORAGE_AZURE_${key.toUpperCase()}`] = String(value);
    return { env, driver: () => createStorageDriver('azure', azurite.parameters('/many')), close: () => azurite.close() };
  },
});
