import { after, before } from 'node:test';
import { createStorageDriver } from '../../src/storage/drivers.js';
import { driverSuite } from '../../src/storage/testing/driver-suite.js';
import { startAzurite, type RunningAzurite } from '../helpers/azurite.js';

let azurite: RunningAzurite;
before(async () => {
  azurite = await startAzurite();
});
after(async () => {
  await azurite.close();
});

// The 24 MiB and 64 MiB tests cross several 8 MiB block boundaries.
driverSuite('azure (azurite)', async () => ({
  driver: await createStorageDriver('azure', azurite.parameters('/suite/root')),
  cleanup: async () => {},
}));
