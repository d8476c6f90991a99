/**
 * Looks keys up in the configuration schema: which keys a mapping accepts at a given path (for
 * "did you mean …?" suggestions) and whether an environment variable names a key at all.
 */
import type * as z from 'zod';

type Schema = z.core.$ZodType;

/** The parts of zod's schema definitions this module reads. */
interface Def {
  readonly type: string;
  readonly innerType?: Schema;
  readonly in?: Schema;
  readonly out?: Schema;
  readonly shape?: Readonly<Record<string, Schema>>;
  readonly options?: readonly Schema[];
  readonly element?: Schema;
  readonly valueType?: Schema;
  readonly format?: string;
}

function defOf(schema: Schema): Def {
  return schema._zod.def as unknown as Def;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

/** Strips wrappers (optional, default, …) and pipes down to the schema that reads the input. */
function unwrap(schema: Schema): Schema {
  let current = schema;
  for (let depth = 0; depth < 32; depth++) {
    const def = defOf(current);
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in && def.out) current = defOf(def.in).type === 'transform' ? def.out : def.in;
    else return current;
  }
  return current;
}

/** The schemas a value at `key` under `schema` is read with (several for unions). */
function children(schema: Schema, key: string): Schema[] {
  const inner = unwrap(schema);
  const def = defOf(inner);
  switch (def.type) {
    case 'object': {
      const child = def.shape?.[key];
      return child ? [child] : [];
    }
    case 'record':
      return def.valueType ? [def.valueType] : [];
    case 'array':
      return def.element && /^\d+$/.test(key) ? [def.element] : [];
    case 'union':
      return (def.options ?? []).flatMap((option) => children(option, key));
    default:
      return [];
  }
}

function schemasAt(root: Schema, path: readonly (string | number)[]): Schema[] {
  let current: Schema[] = [root];
  for (const part of path) current = current.flatMap((schema) => children(schema, String(part)));
  return current;
}

/**
 * The keys a mapping at `path` accepts, or `undefined` when the path is not a fixed-key mapping
 * (a free-form map such as `log.fields`, or not a mapping at all).
 */
export function knownKeysAt(root: Schema, path: readonly (string | number)[]): string[] | undefined {
  const keys = new Set<string>();
  let found = false;
  for (const schema of schemasAt(root, path)) {
    const def = defOf(unwrap(schema));
    if (def.type === 'object' && def.shape) {
      found = true;
      for (const key of Object.keys(def.shape)) keys.add(key);
    }
  }
  return found ? [...keys] : undefined;
}

/** Whether the value at `path` must be an integer (a `z.int()`). */
export function isIntegerAt(root: Schema, path: readonly (string | number)[]): boolean {
  const schemas = schemasAt(root, path);
  return schemas.length > 0 && schemas.every((schema) => {
    const def = defOf(unwrap(schema));
    return def.type === 'number' && (def.format ?? '').includes('int');
  });
}

/**
 * Whether a path of upper-cased environment segments (`["HTTP", "ADDR"]`) names a key the schema
 * accepts. Free-form maps and lists accept any key below them.
 */
export function isKnownEnvPath(root: Schema, segments: readonly string[]): boolean {
  let current: Schema[] = [root];
  for (const segment of segments) {
    const next: Schema[] = [];
    for (const schema of current) {
      const inner = unwrap(schema);
      const def = defOf(inner);
      if (def.type === 'object' && def.shape) {
        const key = Object.keys(def.shape).find((k) => k.toUpperCase() === segment.toUpperCase());
        if (key !== undefined && def.shape[key]) next.push(def.shape[key]);
      } else if (def.type === 'record' || def.type === 'unknown' || def.type === 'any') {
        return true;
      } else {
        next.push(...children(inner, segment));
      }
    }
    if (next.length === 0) return false;
    current = next;
  }
  return true;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row) row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The candidate closest to `word` (ignoring case), when it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(lower.length / 3)));
  if (best !== undefined && bestDistance <= limit) return best;
  // A shortened key ("rootdir" for "rootdirectory"): the one candidate it begins.
  const extended = lower.length >= 4 ? candidates.filter((c) => c.toLowerCase().startsWith(lower)) : [];
  return extended.length === 1 ? extended[0] : undefined;
}
