/**
 * `storage.azure`: distribution's Azure driver keys. Values are checked for type here (numbers
 * also as strings, as REGISTRY_STORAGE_AZURE_* variables give them); the driver applies
 * distribution's defaults (`src/storage/azure/azure-config.ts`).
 */
import * as z from 'zod';
import { str } from './schema-helpers.js';
import { refused } from './support.js';

const retries = () => z.union([z.int().min(-1), z.string().regex(/^-?\d+$/, 'must be a whole number')]).optional();
const goDuration = () => str().refine((s) => /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s), 'must be a duration such as 100ms or 1s').optional();

export const azureParams = z.strictObject({
  accountname: str(),
  accountkey: str().optional(),
  container: str(),
  rootdirectory: str().optional(),
  realm: str().optional(),
  serviceurl: str().optional(),
  credentials: z
    .strictObject({
      type: z.enum(['shared_key', 'client_secret', 'default_credentials']).optional(),
      clientid: str().optional(),
      tenantid: str().optional(),
      secret: str().optional(),
    })
    .optional(),
  max_retries: retries(),
  retry_delay: goDuration(),
  /** the same without the underscore, so that REGISTRY_STORAGE_AZURE_MAXRETRIES / _RETRYDELAY can set them */
  maxretries: retries(),
  retrydelay: goDuration(),
  /** distribution 3.0's earlier names of max_retries and retry_delay */
  copy_status_poll_max_retry: retries(),
  copy_status_poll_delay: goDuration(),
  connectionstring: refused('storage.azure.connectionstring'),
  skipverify: refused('storage.azure.skipverify'),
});

export type AzureParams = z.output<typeof azureParams>;
