import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { configJsonSchema } from '../../src/config/schema.js';
import { SUPPORT_TABLE } from '../../src/config/support.js';
import { EMBEDDED_DEFAULT } from '../../src/config/load.js';

// dist/test/config/docs.test.js → the repository's docs/
const DOC = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url));

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
}

/** Every leaf key path the JSON Schema describes; rows of the support table count as leaves. */
function keyPaths(schema: JsonSchema, prefix: string, out: string[], stopAt: ReadonlySet<string>): string[] {
  const variants = [schema, ...(schema.anyOf ?? [])];
  for (const variant of variants) {
    for (const [key, child] of Object.entries(variant.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      const children = [child, ...(child.anyOf ?? [])].some((v) => Object.keys(v.properties ?? {}).length > 0);
      if ((stopAt.has(path) || !children) && !out.includes(path)) out.push(path);
      if (!stopAt.has(path)) keyPaths(child, path, out, stopAt);
    }
  }
  return out;
}

test('docs/configuration.md documents every key the schema accepts', async () => {
  const doc = await readFile(DOC, 'utf8');
  const stopAt = new Set(SUPPORT_TABLE.map((entry) => entry.path));
  const paths = keyPaths(configJsonSchema() as JsonSchema, '', [], stopAt);
  assert.ok(paths.length > 50, `found ${paths.length} key paths`);
  const missing = paths.filter((path) => !doc.includes(`\`${path}\``));
  assert.deepEqual(missing, []);
});

test('docs/configuration.md lists every row of the support table', async () => {
  const doc = await readFile(DOC, 'utf8');
  const missing = SUPPORT_TABLE.filter((entry) => !doc.includes(`| \`${entry.path}\` |`)).map((entry) => entry.path);
  assert.deepEqual(missing, []);
});

test('docs/configuration.md shows the embedded default as the code has it', async () => {
  const doc = await readFile(DOC, 'utf8');
  const section = doc.slice(doc.indexOf('## The embedded default'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'a YAML block in the embedded default section');
  const shown = parse(block) as Record<string, unknown>;
  assert.deepEqual({ ...shown, version: String(shown.version) }, EMBEDDED_DEFAULT);
});
