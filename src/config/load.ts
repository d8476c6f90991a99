/**
 * Loading the configuration: read the YAML file (or take the embedded default) → overlay the
 * `REGISTRY_*` environment → validate against the schema → deep-freeze. Every problem is
 * collected and reported at once, each with its key path and where it came from; the registry
 * never starts half-configured.
 */
import { readFile } from 'node:fs/promises';
import { applyEnv, envNameFor, originOf } from './env.js';
import { formatDuration } from './duration.js';
import { formatPath, lookup, problemsFromIssues, type Problem } from './problems.js';
import { DURATION_PATHS, configSchema, documentSchema, normaliseDocument, type WharfConfig } from './schema.js';
import { supportWarnings } from './support.js';
import { parseYamlFile, toYaml } from './yaml.js';

export interface LoadOptions {
  /** Path of a distribution-style `config.yml`. When absent, the embedded default is used. */
  readonly file?: string;
  /** Environment to take `REGISTRY_*` overrides from; `process.env` when absent. */
  readonly env?: NodeJS.ProcessEnv;
  /** Explicitly ask for the embedded default (the same as giving no file). */
  readonly defaults?: 'embedded';
}

export interface LoadedConfig {
  /** The effective configuration, deep-frozen. */
  readonly config: Readonly<WharfConfig>;
  /** Things accepted but not acted on (ignored sections, deprecated keys), as "path: reason". */
  readonly warnings: string[];
  /** The file the configuration came from, or "embedded default". */
  readonly source: string;
}

export const EMBEDDED_SOURCE = 'embedded default';

/**
 * The embedded default, used without a configuration file (`npm start`): a registry for one
 * machine, storing under `./data` and listening on port 5000, logging JSON lines at info.
 * Everything else takes the schema's (distribution's) defaults.
 */
export const EMBEDDED_DEFAULT: Readonly<Record<string, unknown>> = deepFreeze({
  version: '0.1',
  log: { level: 'info', formatter: 'json' },
  storage: { filesystem: { rootdirectory: './data' } },
  http: { addr: ':5000' },
});

/** A configuration that cannot be used; `problems` lists every reason, each naming its key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** The file name, or "embedded default". */
    readonly source: string,
    /** One line per problem: "key.path: what is wrong". */
    readonly problems: readonly string[],
  ) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`invalid configuration (${source}, ${count}):\n${problems.map((p) => `  ${source}: ${p}`).join('\n')}`);
  }
}

/** Reads, overlays, validates and freezes the configuration. Throws `ConfigError`. */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  if (options.file === undefined) return resolveConfig(EMBEDDED_DEFAULT, EMBEDDED_SOURCE, env);
  const source = options.file;
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new ConfigError(source, [`cannot read the configuration file: ${reason}`]);
  }
  const parsed = parseYamlFile(text);
  if (parsed.errors.length > 0) throw new ConfigError(source, parsed.errors.map((e) => `YAML syntax: ${e}`));
  const document = parsed.value ?? {};
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError(source, ['the file must hold a YAML mapping (version, storage, http, …)']);
  }
  return resolveConfig(document, source, env);
}

/**
 * The part of `loadConfig` after reading: overlay `env` on an already parsed document, validate
 * and freeze. Exposed for callers that hold the document in memory (tests, tools).
 */
export function resolveConfig(document: unknown, source: string, env: NodeJS.ProcessEnv): LoadedConfig {
  const overlay = applyEnv(document, env, documentSchema);
  const normalised = normaliseDocument(overlay.document);
  const result = configSchema.safeParse(overlay.document, { reportInput: true });
  const problems: Problem[] = [...overlay.problems];
  if (!result.success) problems.push(...problemsFromIssues(result.error.issues, normalised, documentSchema));
  if (problems.length > 0) {
    throw new ConfigError(source, problems.map((problem) => describeProblem(problem, overlay.origins, normalised)));
  }
  if (!result.success) throw new Error('unreachable: invalid configuration without problems');
  return { config: deepFreeze(result.data), warnings: supportWarnings(normalised), source };
}

function describeProblem(problem: Problem, origins: ReadonlyMap<string, string>, document: unknown): string {
  if (problem.message.startsWith('environment variable ')) {
    return problem.path.length > 0 ? `${formatPath(problem.path)}: ${problem.message}` : problem.message;
  }
  const origin = originOf(origins, problem.path);
  if (!origin) return `${formatPath(problem.path)}: ${problem.message}`;
  const unknown = /^unknown key(?: \(did you mean (.+)\?\))?$/.exec(problem.message);
  if (unknown && lookup(document, problem.path).found) {
    const suggestion = unknown[1];
    const parent = problem.path.slice(0, -1);
    const hint = suggestion ? ` (did you mean ${envNameFor([...parent, suggestion])}?)` : '';
    return `${formatPath(problem.path)}: environment variable ${origin} names no configuration key${hint}`;
  }
  return `${formatPath(problem.path)} (from ${origin}): ${problem.message}`;
}

/** Freezes an object tree in place and returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const SECRET_KEYS = new Set([
  'password',
  'secret',
  'secretkey',
  'accountkey',
  'accesskey',
  'privatekey',
  'private_key',
  'sentinelpassword',
  'apikey',
  'licensekey',
  'clientsecret',
  'authorization',
  'token',
]);

export const REDACTED = '[redacted]';

/**
 * A copy of a configuration (or any part of one) with secret values replaced by "[redacted]":
 * every key named password, secret, secretkey, accountkey, accesskey, privatekey, apikey, …
 * at any depth, including `http.secret`.
 */
export function redactConfig<T>(config: T): T {
  return redact(config) as T;
}

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = SECRET_KEYS.has(key.toLowerCase()) && child !== undefined && child !== null && child !== '' ? REDACTED : redact(child);
  }
  return out;
}

/**
 * The configuration as a distribution-style YAML document, which `loadConfig` reads back to the
 * same configuration: durations in Go syntax, `storage.driver` folded back into the driver key,
 * secrets redacted unless `redact` is false.
 */
export function configToYaml(config: Readonly<WharfConfig>, options: { redact?: boolean } = {}): string {
  const document = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  const storage = document.storage as Record<string, unknown>;
  delete storage.driver;
  // A `*` in a duration path stands for every index of a list (`upstreams.*.ttl`).
  for (const path of DURATION_PATHS) formatDurationsAt(document, path.split('.'));
  return toYaml(options.redact === false ? document : redactConfig(document));
}

/** Writes the millisecond durations at a key path (`*` stands for every item of a list) in Go syntax. */
function formatDurationsAt(node: unknown, parts: readonly string[]): void {
  const [head, ...rest] = parts;
  if (head === undefined || typeof node !== 'object' || node === null) return;
  if (head === '*') {
    if (Array.isArray(node)) for (const item of node) formatDurationsAt(item, rest);
    return;
  }
  const holder = node as Record<string, unknown>;
  const value = holder[head];
  if (rest.length > 0) formatDurationsAt(value, rest);
  else if (typeof value === 'number') holder[head] = formatDuration(value);
}
