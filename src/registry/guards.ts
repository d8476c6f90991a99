/**
 * Decorators that refuse operations by configuration: read-only mode
 * (`storage.maintenance.readonly.enabled`) refuses every write, and deletes are refused unless
 * `storage.delete.enabled` (distribution's default is off). Both answer 405 UNSUPPORTED.
 */
import { RegistryError } from './errors.js';
import { ForwardingRegistry, type BlobInfo, type PutManifestResult, type UploadStatus } from './registry.js';

const readOnly = (): RegistryError =>
  new RegistryError('UNSUPPORTED', { reason: 'read-only' }, { message: 'the registry is in read-only mode: writes are refused' });

const deletesDisabled = (): RegistryError =>
  new RegistryError('UNSUPPORTED', { reason: 'delete disabled' }, { message: 'deletes are disabled on this registry (storage.delete.enabled)' });

export class ReadOnlyRegistry extends ForwardingRegistry {
  override deleteBlob(): Promise<void> {
    return Promise.reject(readOnly());
  }
  override mountBlob(): Promise<BlobInfo | undefined> {
    return Promise.reject(readOnly());
  }
  override startUpload(): Promise<UploadStatus> {
    return Promise.reject(readOnly());
  }
  override appendUpload(): Promise<UploadStatus> {
    return Promise.reject(readOnly());
  }
  override completeUpload(): Promise<BlobInfo> {
    return Promise.reject(readOnly());
  }
  override cancelUpload(): Promise<void> {
    return Promise.reject(readOnly());
  }
  override putManifest(): Promise<PutManifestResult> {
    return Promise.reject(readOnly());
  }
  override deleteManifest(): Promise<readonly string[]> {
    return Promise.reject(readOnly());
  }
}

export class NoDeleteRegistry extends ForwardingRegistry {
  override deleteBlob(): Promise<void> {
    return Promise.reject(deletesDisabled());
  }
  override deleteManifest(): Promise<readonly string[]> {
    return Promise.reject(deletesDisabled());
  }
}
