/**
 * The route table, as data: each route a path pattern on the undecoded path below the prefix, and
 * the handler for each method. Order matters: upload routes come before the blob route.
 * Repository names may hold slashes, so the patterns anchor on what follows the name.
 */
export type HandlerName =
  | 'base' | 'liveness' | 'readiness' | 'catalog' | 'listTags'
  | 'getManifest' | 'putManifest' | 'deleteManifest'
  | 'startUpload' | 'uploadStatus' | 'appendUpload' | 'completeUpload' | 'cancelUpload'
  | 'getBlob' | 'deleteBlob' | 'listReferrers' | 'token';

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/**
 * What a method of a route needs when auth is on: nothing (`public`), an identity (`login`), the
 * catalog (`registry:catalog:*`), or actions on the route's repository (`push` asks `pull,push`, as
 * distribution does). A blob mount also needs `pull` on its `from` repository (see http/auth-gate.ts).
 */
export type RouteAccess = 'public' | 'login' | 'catalog' | 'pull' | 'push' | 'delete';

export interface Route {
  readonly name: string;
  readonly pattern: RegExp;
  readonly methods: Readonly<Partial<Record<Method, HandlerName>>>;
  /** Per method, what it needs (see RouteAccess); a method missing here needs `login`. */
  readonly access: Readonly<Partial<Record<Method, RouteAccess>>>;
}

const READ = { GET: 'pull', HEAD: 'pull' } as const;

export const ROUTES: readonly Route[] = [
  { name: 'liveness', pattern: /^\/$/, methods: { GET: 'liveness', HEAD: 'liveness' }, access: { GET: 'public', HEAD: 'public' } },
  { name: 'readyz', pattern: /^\/readyz$/, methods: { GET: 'readiness', HEAD: 'readiness' }, access: { GET: 'public', HEAD: 'public' } },
  { name: 'token', pattern: /^\/auth\/token$/, methods: { GET: 'token', POST: 'token' }, access: { GET: 'public', POST: 'public' } },
  { name: 'base', pattern: /^\/v2\/?$/, methods: { GET: 'base', HEAD: 'base' }, access: { GET: 'login', HEAD: 'login' } },
  { name: 'catalog', pattern: /^\/v2\/_catalog$/, methods: { GET: 'catalog' }, access: { GET: 'catalog' } },
  { name: 'tags', pattern: /^\/v2\/(?<name>.+)\/tags\/list$/, methods: { GET: 'listTags' }, access: READ },
  {
    name: 'manifest',
    pattern: /^\/v2\/(?<name>.+)\/manifests\/(?<reference>[^/]+)$/,
    methods: { GET: 'getManifest', HEAD: 'getManifest', PUT: 'putManifest', DELETE: 'deleteManifest' },
    access: { ...READ, PUT: 'push', DELETE: 'delete' },
  },
  { name: 'uploads', pattern: /^\/v2\/(?<name>.+)\/blobs\/uploads\/?$/, methods: { POST: 'startUpload' }, access: { POST: 'push' } },
  {
    name: 'upload',
    pattern: /^\/v2\/(?<name>.+)\/blobs\/uploads\/(?<uuid>[^/]+)$/,
    methods: { GET: 'uploadStatus', HEAD: 'uploadStatus', PATCH: 'appendUpload', PUT: 'completeUpload', DELETE: 'cancelUpload' },
    // An upload is part of a push, whatever the method: cancelling one needs push, not delete.
    access: { GET: 'push', HEAD: 'push', PATCH: 'push', PUT: 'push', DELETE: 'push' },
  },
  { name: 'blob', pattern: /^\/v2\/(?<name>.+)\/blobs\/(?<digest>[^/]+)$/, methods: { GET: 'getBlob', HEAD: 'getBlob', DELETE: 'deleteBlob' }, access: { ...READ, DELETE: 'delete' } },
  { name: 'referrers', pattern: /^\/v2\/(?<name>.+)\/referrers\/(?<digest>[^/]+)$/, methods: { GET: 'listReferrers' }, access: READ },
];
