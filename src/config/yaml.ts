/**
 * YAML reading as distribution's decoder (gopkg.in/yaml.v2, YAML 1.1) does it, for files and for
 * environment values alike: `yes`/`no`/`on`/`off` are booleans, `0755` is octal, merge keys (`<<`)
 * work, duplicate keys are errors. Unlike YAML 1.1 (and like yaml.v2 when it fills a string),
 * timestamps and base-60 numbers (`1:30`) stay strings.
 */
import { parseDocument, isScalar, stringify, type DocumentOptions, type ParseOptions, type SchemaOptions } from 'yaml';

const OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  merge: true,
  uniqueKeys: true,
  prettyErrors: true,
  customTags: (tags) => tags.filter((tag) => !(typeof tag === 'object' && (tag.tag === 'tag:yaml.org,2002:timestamp' || tag.format === 'TIME'))),
};

/** The first line of a YAML error, without its " at line L, column C:" suffix. */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

export type YamlResult = { ok: true; value: unknown } | { ok: false; message: string };

/** Parses one YAML value (an environment variable's). The empty string is null. */
export function parseYamlValue(text: string): YamlResult {
  const doc = parseDocument(text, OPTIONS);
  const error = doc.errors[0];
  if (error) return { ok: false, message: firstLine(error.message) };
  return { ok: true, value: doc.toJS({ maxAliasCount: 1000 }) };
}

export interface YamlFileResult {
  readonly value: unknown;
  /** Every syntax error, as "line L, column C: message". */
  readonly errors: readonly string[];
}

/**
 * Parses a configuration file. A top-level `version: 0.1` is kept as the text written (YAML
 * would read it as the number 0.1), as distribution reads it into a string.
 */
export function parseYamlFile(text: string): YamlFileResult {
  const doc = parseDocument(text, OPTIONS);
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((error) => {
      const where = error.linePos?.[0];
      const message = firstLine(error.message);
      return where ? `line ${where.line}, column ${where.col}: ${message}` : message;
    });
    return { value: undefined, errors };
  }
  const value: unknown = doc.toJS({ maxAliasCount: 1000 });
  const version = doc.get('version', true);
  if (isScalar(version) && typeof version.value === 'number' && typeof version.source === 'string' && typeof value === 'object' && value !== null) {
    (value as Record<string, unknown>).version = version.source;
  }
  return { value, errors: [] };
}

/** Serialises a configuration tree as YAML (block style, keys in insertion order). */
export function toYaml(value: unknown): string {
  return stringify(value, { version: '1.1', lineWidth: 0 });
}
