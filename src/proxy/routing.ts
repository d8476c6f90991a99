/**
 * Which upstream serves a repository, and under which names. A request names a repository
 * (`name`) and, from containerd, maybe a namespace (`?ns=docker.io`). The rules, first match wins,
 * upstreams in configuration order:
 *
 * 1. `ns` given and listed in an upstream's `namespaces` (by default its URL's host, and
 *    `docker.io` for Docker Hub's hosts): that upstream; the local name is `<ns>/<name>` and the
 *    upstream's name is `<name>` (so `?ns=docker.io` + `library/alpine` is stored as
 *    `docker.io/library/alpine`, the same repository a prefix `docker.io/` would give; a port's
 *    `:` becomes `-`, since names cannot hold one: `?ns=host:5000` → `host-5000/<name>`).
 * 2. `name` starts with one of an upstream's `prefixes`: the prefix is removed to give the
 *    upstream's name (`hub/library/alpine` with prefix `hub/` → `library/alpine`).
 * 3. `name` matches one of an upstream's `patterns` (globs: `*` within one path component, `**`
 *    across components): the upstream's name is `name` without `stripprefix` when it starts with it.
 * 4. A catch-all upstream (distribution's `proxy` section): the name is the same on both sides.
 *
 * With `officialimages` (on by default for Docker Hub's hosts), a one-component upstream name
 * gets `library/` in front, as docker does (`docker.io/alpine` → `library/alpine`).
 * A name no rule matches is an ordinary local repository.
 */
import type { CredentialSource } from './credentials.js';

export interface Upstream {
  readonly name: string;
  readonly url: URL;
  readonly credentials: CredentialSource;
  readonly prefixes: readonly string[];
  readonly patterns: readonly string[];
  readonly stripPrefix?: string | undefined;
  readonly namespaces: readonly string[];
  /** How long a tag is served without asking the upstream again (ms; 0: every pull asks). */
  readonly freshnessMs: number;
  /** How long cached content is kept before it is checked with the upstream again (ms; 0: forever). */
  readonly ttlMs: number;
  /** Whether the cached repositories also take pushes. */
  readonly writable: boolean;
  readonly officialImages: boolean;
  /** Serves every repository no other upstream took (distribution's `proxy`). */
  readonly catchAll?: boolean;
}

export interface Route {
  readonly upstream: Upstream;
  /** The repository in local storage. */
  readonly localName: string;
  /** The repository on the upstream. */
  readonly remoteName: string;
  /** The `ns` the route was chosen by, when it was. */
  readonly namespace?: string | undefined;
}

const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

export function isDockerHub(url: URL): boolean {
  return HUB_HOSTS.has(url.host);
}

/** The namespaces an upstream answers `?ns=` for when none are configured. */
export function defaultNamespaces(url: URL): string[] {
  return isDockerHub(url) ? ['docker.io', url.host] : [url.host];
}

/** A glob over repository names as a RegExp: `*` stays within a component, `**` crosses them. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

export class UpstreamRouter {
  private readonly compiled: { readonly upstream: Upstream; readonly patterns: readonly RegExp[] }[];

  constructor(readonly upstreams: readonly Upstream[]) {
    this.compiled = upstreams.map((upstream) => ({ upstream, patterns: upstream.patterns.map(globToRegExp) }));
  }

  route(name: string, namespace: string | undefined): Route | undefined {
    if (namespace !== undefined) {
      const byNs = this.upstreams.find((u) => u.namespaces.includes(namespace));
      if (byNs !== undefined) return this.make(byNs, `${namespace.replace(/:/g, '-')}/${name}`, name, namespace);
    }
    for (const { upstream, patterns } of this.compiled) {
      const prefix = upstream.prefixes.find((p) => name.startsWith(p) && name.length > p.length);
      if (prefix !== undefined) return this.make(upstream, name, name.slice(prefix.length), undefined);
      if (patterns.some((p) => p.test(name))) {
        const strip = upstream.stripPrefix;
        const remote = strip !== undefined && strip !== '' && name.startsWith(strip) && name.length > strip.length ? name.slice(strip.length) : name;
        return this.make(upstream, name, remote, undefined);
      }
    }
    const catchAll = this.upstreams.find((u) => u.catchAll === true);
    return catchAll === undefined ? undefined : this.make(catchAll, name, name, undefined);
  }

  private make(upstream: Upstream, localName: string, remote: string, namespace: string | undefined): Route {
    const remoteName = upstream.officialImages && !remote.includes('/') ? `library/${remote}` : remote;
    return { upstream, localName, remoteName, namespace };
  }
}
