/**
 * The vocabulary of authorisation, shared by every auth provider and by the token service: who is
 * asking (an Identity), what a request needs (AccessItems, as in distribution's `auth.Access`), and
 * the token `scope` grammar (`repository:library/alpine:pull,push`, `registry:catalog:*`).
 */

/** What a route may need on a repository. `catalog` is `registry:catalog:*`; `login` needs only an identity. */
export type RepositoryAction = 'pull' | 'push' | 'delete';

export interface Identity {
  /** The user name; undefined for an anonymous caller. */
  readonly name: string | undefined;
  /** How the identity was established, for logs. */
  readonly via: 'anonymous' | 'htpasswd' | 'token' | 'certificate' | 'silly';
}

export const ANONYMOUS: Identity = { name: undefined, via: 'anonymous' };

/** One resource and the actions asked for or granted on it (a token's `access` claim entry). */
export interface AccessItem {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

/** What a request needs: an identity at least, and the listed access. */
export interface AccessRequirement {
  readonly items: readonly AccessItem[];
  /**
   * Access the request can use but does not need (a blob mount's `pull` on `from`). A challenge
   * names it after `items`, as distribution's does, so the token the client asks for next covers it.
   */
  readonly wanted?: readonly AccessItem[];
}

/** The access a Bearer challenge names: what the request needs, then what it can use. */
export function challengedAccess(required: AccessRequirement): readonly AccessItem[] {
  return required.wanted === undefined ? required.items : [...required.items, ...required.wanted];
}

export const LOGIN_ONLY: AccessRequirement = { items: [] };
export const CATALOG_ACCESS: AccessItem = { type: 'registry', name: 'catalog', actions: ['*'] };

export function repositoryAccess(name: string, actions: readonly RepositoryAction[]): AccessItem {
  return { type: 'repository', name, actions };
}

/**
 * Parses one scope (`type[(class)]:name:actions`). The name may hold colons (`host:5000/app`), so
 * the type ends at the first colon and the actions start after the last one. Undefined when malformed.
 */
export function parseScope(scope: string): AccessItem | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  const name = scope.slice(first + 1, last);
  const actions = scope.slice(last + 1).split(',').filter((a) => a !== '');
  if (name === '' || actions.length === 0) return undefined;
  return { type, name, actions };
}

/** Every scope of a request (`scope` may repeat, and one value may hold several separated by spaces). */
export function parseScopes(values: readonly string[]): AccessItem[] {
  const items: AccessItem[] = [];
  for (const value of values) {
    for (const part of value.split(' ')) {
      const item = parseScope(part);
      if (item !== undefined) items.push(item);
    }
  }
  return items;
}

/** The `scope` challenge parameter, as distribution writes it: actions sorted, resources space-separated. */
export function formatScope(items: readonly AccessItem[]): string {
  return items.map((item) => `${item.type}:${item.name}:${[...new Set(item.actions)].sort().join(',')}`).join(' ');
}

/** Whether `granted` (a token's access claim) covers every action of every required item. */
export function covers(granted: readonly AccessItem[], required: readonly AccessItem[]): boolean {
  return required.every((need) =>
    need.actions.every((action) =>
      granted.some((g) => g.type === need.type && g.name === need.name && (g.actions.includes(action) || g.actions.includes('*'))),
    ),
  );
}
