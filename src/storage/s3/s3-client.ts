/** The AWS SDK client a `storage.s3` section configures. */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3DriverOptions } from './s3-config.js';

/** The SDK client for `o`. */
export function s3Client(o: S3DriverOptions): S3Client {
  let endpoint = o.regionEndpoint;
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) endpoint = `${o.secure ? 'https' : 'http'}://${endpoint}`;
  const config: S3ClientConfig = {
    region: o.region,
    forcePathStyle: o.forcePathStyle,
    tls: o.secure,
    // S3-compatible stores reject the SDK's newer default checksums; send them only where required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 5,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(o.accessKey !== undefined && o.secretKey !== undefined
      ? { credentials: { accessKeyId: o.accessKey, secretAccessKey: o.secretKey, ...(o.sessionToken ? { sessionToken: o.sessionToken } : {}) } }
      : {}),
    requestHandler: {
      // agent options, not agents: the SDK's handler builds them (keep-alive, and TLS checks unless skipverify)
      httpAgent: { keepAlive: true, maxSockets: 256 },
      httpsAgent: { keepAlive: true, maxSockets: 256, rejectUnauthorized: !o.skipVerify },
    },
  };
  return new S3Client(config);
}
