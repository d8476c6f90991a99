/**
 * Access rules (the Wharf-only `access` section): for repository name globs, who may pull, push and
 * delete. Principals are user names, group names (from `access.groups`), `anonymous` (everyone,
 * logged in or not) and `authenticated` (every user who logged in).
 *
 * - Globs: `*` and `?` stay within one path component, `**` crosses slashes.
 * - The most specific pattern that matches a name decides alone: an exact name beats any glob; among
 *   globs, more literal characters win; on a tie, the rule written first.
 * - `push` includes `pull` (a client reads blobs and manifests back while pushing).
 * - No matching rule: nothing is allowed. Without `access.rules` at all, every logged-in user may do
 *   everything and anonymous callers nothing (distribution's behaviour with htpasswd or tokens).
 */
import type { Identity, RepositoryAction } from './access.js';

export interface AccessRuleConfig {
  readonly repository: string;
  readonly pull?: readonly string[] | undefined;
  readonly push?: readonly string[] | undefined;
  readonly delete?: readonly string[] | undefined;
}

export interface AccessConfig {
  readonly groups?: Readonly<Record<string, readonly string[]>> | undefined;
  /** Undefined: logged-in users may do everything (see above). */
  readonly rules?: readonly AccessRuleConfig[] | undefined;
}

const ACTIONS: readonly RepositoryAction[] = ['pull', 'push', 'delete'];

interface CompiledRule {
  readonly pattern: string;
  readonly regex: RegExp;
  readonly exact: boolean;
  readonly literals: number;
  readonly order: number;
  readonly grants: ReadonlyMap<RepositoryAction, ReadonlySet<string>>;
}

/** A repository glob as a regular expression (anchored). */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

export class AccessRules {
  private readonly rules: readonly CompiledRule[] | undefined;
  private readonly groupsOf = new Map<string, string[]>();

  constructor(config: AccessConfig = {}) {
    for (const [group, members] of Object.entries(config.groups ?? {})) {
      for (const member of members) this.groupsOf.set(member, [...(this.groupsOf.get(member) ?? []), group]);
    }
    this.rules = config.rules
      ?.map((rule, order): CompiledRule => ({
        pattern: rule.repository,
        regex: globToRegExp(rule.repository),
        exact: !/[*?]/.test(rule.repository),
        literals: rule.repository.replace(/[*?]/g, '').length,
        order,
        grants: new Map(ACTIONS.map((action) => [action, new Set(rule[action] ?? [])])),
      }))
      .sort((a, b) => Number(b.exact) - Number(a.exact) || b.literals - a.literals || a.order - b.order);
  }

  /** The groups a user belongs to. */
  groups(user: string): readonly string[] {
    return this.groupsOf.get(user) ?? [];
  }

  /** The actions `identity` may do on repository `name`. */
  allowed(identity: Identity, name: string): ReadonlySet<RepositoryAction> {
    if (this.rules === undefined) return new Set(identity.name === undefined ? [] : ACTIONS);
    const rule = this.rules.find((r) => r.regex.test(name));
    const out = new Set<RepositoryAction>();
    if (rule === undefined) return out;
    const principals = new Set<string>(['anonymous']);
    if (identity.name !== undefined) {
      principals.add('authenticated');
      principals.add(identity.name);
      for (const group of this.groups(identity.name)) principals.add(group);
    }
    for (const [action, who] of rule.grants) {
      if ([...principals].some((p) => who.has(p))) out.add(action);
    }
    if (out.has('push')) out.add('pull');
    return out;
  }

  may(identity: Identity, name: string, action: RepositoryAction): boolean {
    return this.allowed(identity, name).has(action);
  }
}
