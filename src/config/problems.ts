/**
 * Turns zod issues into configuration problems a person can act on: the full key path, what was
 * expected and what was found, and for an unknown key the closest known one.
 */
import type * as z from 'zod';
import { describeValue } from './duration.js';
import { closest, isIntegerAt, knownKeysAt } from './schema-walk.js';

export type KeyPath = readonly (string | number)[];

export interface Problem {
  readonly path: KeyPath;
  readonly message: string;
}

/** `storage.filesystem.rootdirectory`, `validation.manifests.urls.allow[0]`. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number' || /^\d+$/.test(part)) out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(top level)' : out;
}

const REQUIRED_HINTS: Readonly<Record<string, string>> = {
  version: 'required: write "version: 0.1" at the top of the file',
  storage: 'required: configure one storage driver, e.g. "storage: {filesystem: {rootdirectory: /var/lib/registry}}"',
};

/** Reads the value at `path` in a raw tree; `found` is false when a key on the way is absent. */
export function lookup(root: unknown, path: KeyPath): { found: boolean; value: unknown } {
  let node: unknown = root;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return { found: false, value: undefined };
    const record = node as Record<string, unknown>;
    if (!Object.prototype.hasOwnProperty.call(record, String(part))) return { found: false, value: undefined };
    node = record[String(part)];
  }
  return { found: true, value: node };
}

function expectedName(expected: string): string {
  switch (expected) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'int':
      return 'an integer';
    case 'record':
      return 'a mapping';
    default:
      return expected;
  }
}

function nonEmpty<T>(list: readonly T[]): list is readonly [T, ...T[]] {
  return list.length > 0;
}

/**
 * Problems for zod issues. `document` is the (normalised) input the issues refer to; `schema`
 * answers which keys were expected where.
 */
export function problemsFromIssues(issues: readonly z.core.$ZodIssue[], document: unknown, schema: z.core.$ZodType): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) problems.push(...problemsFromIssue(issue, [], document, schema));
  return problems;
}

function problemsFromIssue(issue: z.core.$ZodIssue, prefix: KeyPath, document: unknown, schema: z.core.$ZodType): Problem[] {
  const path: KeyPath = [...prefix, ...(issue.path as readonly (string | number)[])];
  const here = lookup(document, path);
  const got = describeValue(here.value);
  const required = (): Problem => ({ path, message: REQUIRED_HINTS[formatPath(path)] ?? 'required' });

  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, path) ?? [];
      return issue.keys.map((key) => {
        const suggestion = closest(key, known.filter((k) => k !== key));
        return {
          path: [...path, key],
          message: suggestion ? `unknown key (did you mean ${suggestion}?)` : 'unknown key',
        };
      });
    }
    case 'invalid_union': {
      if (!here.found) return [required()];
      const branches = issue.errors;
      const typeOnly = branches.every((branch) => branch.length === 1 && branch[0]?.code === 'invalid_type' && branch[0].path.length === 0);
      if (typeOnly) {
        const expected = [...new Set(branches.map((branch) => (branch[0]?.code === 'invalid_type' ? expectedName(branch[0].expected) : '?')))];
        return [{ path, message: `expected ${expected.join(' or ')}, got ${got}` }];
      }
      // Report the branch that got furthest: the one whose issues are not a type mismatch at the top.
      const deeper = branches.filter((branch) => !(branch.length === 1 && branch[0]?.code === 'invalid_type' && branch[0].path.length === 0));
      const chosen = deeper[0] ?? branches[0] ?? [];
      return chosen.flatMap((inner) => problemsFromIssue(inner, path, document, schema));
    }
    case 'invalid_type': {
      if (!here.found || here.value === undefined) return [required()];
      const expected = issue.expected === 'number' && isIntegerAt(schema, path) ? 'int' : issue.expected;
      return [{ path, message: `expected ${expectedName(expected)}, got ${got}` }];
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      const choice = nonEmpty(values) && values.length > 1 ? `one of ${values.join(', ')}` : (values[0] ?? '?');
      return [{ path, message: `expected ${choice}, got ${got}` }];
    }
    case 'too_small': {
      const bound = String(issue.minimum);
      if (issue.origin === 'number' || issue.origin === 'int') {
        return [{ path, message: `must be at least ${bound}, got ${got}` }];
      }
      return [{ path, message: `must have at least ${bound} ${issue.origin === 'string' ? 'characters' : 'entries'}` }];
    }
    case 'too_big': {
      const bound = String(issue.maximum);
      if (issue.origin === 'number' || issue.origin === 'int') {
        return [{ path, message: `must be at most ${bound}, got ${got}` }];
      }
      return [{ path, message: `must have at most ${bound} ${issue.origin === 'string' ? 'characters' : 'entries'}` }];
    }
    default:
      return [{ path, message: issue.message }];
  }
}
