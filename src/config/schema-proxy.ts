/**
 * The pull-through cache's configuration: distribution's `proxy` section (one upstream that mirrors
 * every repository; pushes refused) and Wharf's `upstreams` section (several upstreams, each serving
 * the repositories its prefixes, patterns or `?ns=` namespaces select; other repositories take
 * pushes as usual). `docs/configuration.md` documents both; `src/proxy/` implements them.
 */
import * as z from 'zod';
import { duration, nonEmptyStr, str } from './schema-helpers.js';

function httpUrl() {
  return nonEmptyStr().superRefine((value, ctx) => {
    let url: URL | undefined;
    try {
      url = new URL(value.trim());
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '' || (url.pathname !== '/' && url.pathname !== '')) {
      ctx.addIssue({ code: 'custom', message: `expected the registry's base URL such as "https://registry-1.docker.io", got ${JSON.stringify(value)}` });
    }
  });
}

/** distribution 3's `proxy.exec`: a credential helper program run as `<command> get`. */
const execSchema = z.strictObject({
  command: nonEmptyStr(),
  lifetime: duration('nanoseconds').optional(),
});

/** distribution's `proxy` section. */
export const proxySchema = z
  .strictObject({
    remoteurl: httpUrl(),
    username: str().optional(),
    password: str().optional(),
    ttl: duration('nanoseconds').prefault('168h'),
    exec: execSchema.optional(),
  })
  .optional();

/** Repository-name prefixes end in `/`; glob patterns use `*` (within a component) and `**` (across). */
const PREFIX = /^([a-z0-9]+([._-][a-z0-9]+)*)(\/[a-z0-9]+([._-][a-z0-9]+)*)*\/$/;
const PATTERN = /^[a-z0-9._\-/*]+$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const HOST = /^[a-z0-9.-]+(:[0-9]{1,5})?$/;

const upstreamSchema = z.strictObject({
  name: nonEmptyStr().refine((v) => NAME.test(v), { message: 'letters, digits, ".", "_" and "-" (at most 63), starting with a letter or digit' }),
  url: httpUrl(),
  username: str().optional(),
  password: str().optional(),
  /** A docker `config.json` to take credentials from (its `auths`, `credHelpers` or `credsStore`). */
  dockerconfig: nonEmptyStr().optional(),
  /** A credential helper: `docker-credential-<helper> get` is run with the upstream's host on stdin. */
  credentialhelper: nonEmptyStr().optional(),
  prefixes: z.array(nonEmptyStr().refine((v) => PREFIX.test(v), { message: 'a repository-name prefix ending in "/", such as "hub/" or "docker.io/"' })).default([]),
  patterns: z.array(nonEmptyStr().refine((v) => PATTERN.test(v), { message: 'a glob over repository names, such as "ghcr.io/org/*" or "mirror/**"' })).default([]),
  /** Removed from the front of a name a pattern matched, to give the upstream's repository. */
  stripprefix: str().optional(),
  /** `?ns=` values that select this upstream; the URL's host by default. */
  namespaces: z.array(nonEmptyStr().refine((v) => HOST.test(v.toLowerCase()), { message: 'a registry host such as "docker.io" or "host:5000"' })).optional(),
  freshness: duration('zero-only').prefault('5m'),
  ttl: duration('zero-only').prefault('168h'),
  writable: z.boolean().default(false),
  /** Docker Hub's convention: a one-component name is `library/<name>` upstream. */
  officialimages: z.boolean().optional(),
});

export const upstreamsSchema = z
  .array(upstreamSchema)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((upstream, index) => {
      if (seen.has(upstream.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `upstream name ${JSON.stringify(upstream.name)} is used twice` });
      seen.add(upstream.name);
      if (upstream.password !== undefined && upstream.username === undefined) {
        ctx.addIssue({ code: 'custom', path: [index, 'password'], message: 'a password needs a username' });
      }
    });
  })
  .default([]);

export type ProxyConfig = NonNullable<z.output<typeof proxySchema>>;
export type UpstreamConfig = z.output<typeof upstreamSchema>;
