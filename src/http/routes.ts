/**
 * The route table, as data: each route a path pattern on the undecoded path below the prefix, and
 * the handler for each method. Order matters: upload routes come before the blob route.
 * Repository names may hold slashes, so the patterns anchor on what follows the name.
 */
export type HandlerName =
  | 'base' | 'liveness' | 'readiness' | 'catalog' | 'listTags'
  | 'getManifest' | 'putManifest' | 'deleteManifest'
  | 'startUpload' | 'uploadStatus' | 'appendUpload' | 'completeUpload' | 'cancelUpload'
  | 'getBlob' | 'deleteBlob' | 'listReferrers';

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface Route {
  readonly name: string;
  readonly pattern: RegExp;
  readonly methods: Readonly<Partial<Record<Method, HandlerName>>>;
}

export const ROUTES: readonly Route[] = [
  { name: 'liveness', pattern: /^\/$/, methods: { GET: 'liveness', HEAD: 'liveness' } },
  { name: 'readyz', pattern: /^\/readyz$/, methods: { GET: 'readiness', HEAD: 'readiness' } },
  { name: 'base', pattern: /^\/v2\/?$/, methods: { GET: 'base', HEAD: 'base' } },
  { name: 'catalog', pattern: /^\/v2\/_catalog$/, methods: { GET: 'catalog' } },
  { name: 'tags', pattern: /^\/v2\/(?<name>.+)\/tags\/list$/, methods: { GET: 'listTags' } },
  {
    name: 'manifest',
    pattern: /^\/v2\/(?<name>.+)\/manifests\/(?<reference>[^/]+)$/,
    methods: { GET: 'getManifest', HEAD: 'getManifest', PUT: 'putManifest', DELETE: 'deleteManifest' },
  },
  { name: 'uploads', pattern: /^\/v2\/(?<name>.+)\/blobs\/uploads\/?$/, methods: { POST: 'startUpload' } },
  {
    name: 'upload',
    pattern: /^\/v2\/(?<name>.+)\/blobs\/uploads\/(?<uuid>[^/]+)$/,
    methods: { GET: 'uploadStatus', HEAD: 'uploadStatus', PATCH: 'appendUpload', PUT: 'completeUpload', DELETE: 'cancelUpload' },
  },
  { name: 'blob', pattern: /^\/v2\/(?<name>.+)\/blobs\/(?<digest>[^/]+)$/, methods: { GET: 'getBlob', HEAD: 'getBlob', DELETE: 'deleteBlob' } },
  { name: 'referrers', pattern: /^\/v2\/(?<name>.+)\/referrers\/(?<digest>[^/]+)$/, methods: { GET: 'listReferrers' } },
];
