/**
 * Server-side copy for `move`, as distribution does it: Copy Blob from the source's SAS URL, then
 * poll the destination's copy status `max_retries` times, the n-th poll after n × `retry_delay`;
 * still pending after that, the copy is aborted and the move fails. With `max_retries: -1` a copy
 * that does not complete at once is aborted (distribution's meaning), and the move fails.
 */
import type { BlobClient } from '@azure/storage-blob';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AzureDriverOptions } from './azure-config.js';

/** The calls a copy needs (a BlobClient; a fake in tests). */
export type CopyTarget = Pick<BlobClient, 'beginCopyFromURL' | 'getProperties' | 'abortCopyFromURL'>;

export async function copyBlob(
  target: CopyTarget,
  sourceURL: string,
  o: Pick<AzureDriverOptions, 'maxRetries' | 'retryDelayMs'>,
  signal?: AbortSignal,
): Promise<void> {
  const poller = await target.beginCopyFromURL(sourceURL, signal ? { abortSignal: signal } : {});
  const state = poller.getOperationState() as { error?: Error; copyId?: string };
  if (state.error) throw state.error;
  let status: string | undefined = poller.isDone() ? (poller.getResult()?.copyStatus ?? 'success') : 'pending';
  let copyId = state.copyId ?? poller.getResult()?.copyId;
  for (let retry = 1; status === 'pending'; retry++) {
    if (o.maxRetries === -1 || retry > o.maxRetries) {
      if (copyId !== undefined) await target.abortCopyFromURL(copyId).catch(() => {});
      throw new Error(`the copy did not complete after ${Math.max(0, o.maxRetries)} status polls; aborted it`);
    }
    await sleep(o.retryDelayMs * retry, undefined, signal ? { signal } : {});
    const props = await target.getProperties(signal ? { abortSignal: signal } : {});
    status = props.copyStatus;
    copyId = props.copyId ?? copyId;
    if (status === 'failed' || status === 'aborted') throw new Error(`the copy ${status}: ${props.copyStatusDescription ?? ''}`);
  }
  if (status !== 'success') throw new Error(`the copy ended with status ${String(status)}`);
}
