/**
 * The Azure SDK clients for an `azure` driver and the signer of its redirect URLs: a read-only
 * blob SAS signed with the account key (shared_key), or, with Entra ID credentials (client_secret,
 * default_credentials), with a user delegation key fetched from the service and reused until it
 * nears its end (distribution's scheme: keys valid 48 hours, renewed 30 minutes before).
 */
import {
  BlobSASPermissions,
  BlobServiceClient,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type BlobSASSignatureValues,
  type ContainerClient,
  type UserDelegationKey,
} from '@azure/storage-blob';
import type { AzureDriverOptions } from './azure-config.js';

const UDK_LIFETIME_MS = 48 * 3600_000;
const UDK_GRACE_MS = 30 * 60_000;

/** Signs the SAS of one blob, valid until `expiresOn`. */
export interface BlobSigner {
  sign(values: BlobSASSignatureValues): Promise<string>;
}

/** Where user delegation keys come from (the service client; a fake in tests). */
export interface DelegationKeySource {
  getUserDelegationKey(startsOn: Date, expiresOn: Date): Promise<UserDelegationKey>;
}

export class SharedKeySigner implements BlobSigner {
  constructor(readonly credential: StorageSharedKeyCredential) {}
  async sign(values: BlobSASSignatureValues): Promise<string> {
    return generateBlobSASQueryParameters(values, this.credential).toString();
  }
}

export class DelegationSigner implements BlobSigner {
  #key: { key: UserDelegationKey; expires: number } | undefined;
  #pending: Promise<UserDelegationKey> | undefined;

  constructor(
    readonly source: DelegationKeySource,
    readonly accountName: string,
  ) {}

  async #delegationKey(): Promise<UserDelegationKey> {
    const now = Date.now();
    if (this.#key && this.#key.expires - now > UDK_GRACE_MS) return this.#key.key;
    this.#pending ??= (async () => {
      const start = new Date(now - 10_000);
      const expires = new Date(start.getTime() + UDK_LIFETIME_MS);
      try {
        const key = await this.source.getUserDelegationKey(start, expires);
        this.#key = { key, expires: expires.getTime() };
        return key;
      } finally {
        this.#pending = undefined;
      }
    })();
    return this.#pending;
  }

  async sign(values: BlobSASSignatureValues): Promise<string> {
    return generateBlobSASQueryParameters(values, await this.#delegationKey(), this.accountName).toString();
  }
}

export interface AzureClients {
  readonly service: BlobServiceClient;
  readonly container: ContainerClient;
  readonly signer: BlobSigner;
}

/** The clients for `o`; @azure/identity is loaded only for Entra ID credentials. */
export async function azureClients(o: AzureDriverOptions): Promise<AzureClients> {
  const pipeline = { retryOptions: { maxTries: 5 }, keepAliveOptions: { enable: true } };
  let service: BlobServiceClient;
  let signer: BlobSigner;
  const c = o.credentials;
  if (c.type === 'shared_key') {
    const credential = new StorageSharedKeyCredential(o.accountName, o.accountKey ?? '');
    service = new BlobServiceClient(o.serviceURL, credential, pipeline);
    signer = new SharedKeySigner(credential);
  } else {
    const identity = await import('@azure/identity');
    const credential = c.type === 'client_secret' ? new identity.ClientSecretCredential(c.tenantId, c.clientId, c.secret) : new identity.DefaultAzureCredential();
    service = new BlobServiceClient(o.serviceURL, credential, pipeline);
    const client = service;
    signer = new DelegationSigner({ getUserDelegationKey: async (s, e) => (await client.getUserDelegationKey(s, e)) as UserDelegationKey }, o.accountName);
  }
  return { service, container: service.getContainerClient(o.container), signer };
}

/** A read-only SAS URL for `blobURL` valid for `seconds` (HTTPS only unless the service is plain HTTP). */
export async function signedBlobURL(signer: BlobSigner, containerName: string, blobName: string, blobURL: string, seconds: number): Promise<string> {
  const now = Date.now();
  const sas = await signer.sign({
    containerName,
    blobName,
    permissions: BlobSASPermissions.parse('r'),
    startsOn: new Date(now - 10_000),
    expiresOn: new Date(now + seconds * 1000),
    protocol: blobURL.startsWith('https:') ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
  });
  return `${blobURL}?${sas}`;
}
