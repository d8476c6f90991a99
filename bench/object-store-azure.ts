/**
 * The azure driver on azurite: one large blob through a real Wharf process (`blob-round.ts`: up,
 * down through Wharf and by the SAS redirect, Wharf's peak RSS).
 * `node dist/bench/object-store-azure.js [MiB]` (default 1024).
 */
import { blobRound } from './blob-round.js';
import { startWharfProcess } from '../test/helpers/process.js';
import { startAzurite } from '../test/helpers/azurite.js';

async function main(): Promise<void> {
  const sizeMiB = Number(process.argv[2] ?? 1024);
  const azurite = await startAzurite();
  try {
    const blob = await blobRound(
      (extra) => {
        const env: Record<string, string> = { REGISTRY_STORAGE: 'azure', REGISTRY_LOG_ACCESSLOG_DISABLED: 'true', ...extra };
        for (const [key, value] of Object.entries(azurite.parameters('/bench-blob'))) env[`REGISTRY_STORAGE_AZURE_${key.toUpperCase()}`] = String(value);
        return startWharfProcess(env);
      },
      sizeMiB,
      'bench/azure',
    );
    console.log(JSON.stringify({ store: 'azurite', sizeMiB, ...blob }));
  } finally {
    await azurite.close();
  }
}

await main();
