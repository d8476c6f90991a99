/**
 * Small zod building blocks shared by the configuration schema files.
 */
import * as z from 'zod';
import { durationToMs, type BareNumbers } from './duration.js';

/**
 * A string. Like gopkg.in/yaml.v2 decoding into a Go `string`, a YAML number or boolean is
 * accepted and kept as its text (`secret: 12345` is the string "12345").
 */
export function str() {
  return z
    .union([z.string(), z.number(), z.boolean()])
    .transform((value) => String(value))
    .meta({ description: 'string' });
}

/** A non-empty string (after trimming). */
export function nonEmptyStr() {
  return str().refine((value) => value.trim() !== '', { message: 'must not be empty' });
}

/** An integer (a YAML number without a fraction). */
export function int() {
  return z.int();
}

/** A list of strings. */
export function strList() {
  return z.array(str());
}

/**
 * A duration (see `duration.ts`), output as milliseconds. Give defaults in Go syntax with
 * `.prefault("24h")` so that they go through the same parsing.
 */
export function duration(bareNumbers: BareNumbers) {
  return z
    .union([z.string(), z.number()])
    .transform((value, ctx) => {
      const result = durationToMs(value, bareNumbers);
      if (!result.ok) {
        ctx.addIssue({ code: 'custom', message: result.message });
        return z.NEVER;
      }
      return result.ms;
    })
    .meta({
      description:
        bareNumbers === 'nanoseconds'
          ? 'Go duration ("30s", "1h30m"); a bare integer counts nanoseconds'
          : 'Go duration ("30s", "1h30m")',
    });
}

/**
 * Case-insensitive choice among lower-case `values` (distribution lower-cases log levels and
 * index platform modes before checking them).
 */
export function lowerEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(values))
    .meta({ description: `one of ${values.join(', ')} (any case)` });
}

/** An HTTP header field name (RFC 9110 token). */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Compiles a URL pattern from `validation.manifests.urls.{allow,deny}`. distribution writes them
 * in Go's RE2 syntax; the common RE2-only spellings are translated (`(?P<name>` → `(?<name>`, a
 * leading `(?i)` → the `i` flag). Throws `SyntaxError` when the pattern is not valid.
 */
export function compileUrlPattern(pattern: string): RegExp {
  let source = pattern.replace(/\(\?P</g, '(?<');
  let flags = '';
  const leadingFlags = /^\(\?([ims]+)\)/.exec(source);
  if (leadingFlags?.[1]) {
    flags = [...new Set(leadingFlags[1])].join('');
    source = source.slice(leadingFlags[0].length);
  }
  return new RegExp(source, flags);
}
