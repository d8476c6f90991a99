/**
 * A registry on the filesystem loads neither the AWS SDK nor undici (together ~25 MiB of RSS):
 * they load when S3 or an upstream is configured. A real `wharf serve` process with a module
 * resolve hook that reports every package it loads.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

const HOOKS = `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(resolved.url);
  if (m) process.stderr.write('PACKAGE ' + m[1] + '\\n');
  return resolved;
}`;

async function packagesLoaded(env: Record<string, string>): Promise<Set<string>> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-lazy-'));
  try {
    await writeFile(join(dir, 'hooks.mjs'), HOOKS);
    await writeFile(join(dir, 'register.mjs'), `import { register } from 'node:module'; register('./hooks.mjs', import.meta.url);`);
    const child = spawn(process.execPath, ['--import', join(dir, 'register.mjs'), MAIN, 'serve'], {
      env: { ...process.env, REGISTRY_HTTP_ADDR: '127.0.0.1:0', REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(dir, 'root'), REGISTRY_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    let out = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`wharf exited (${code}) before listening:\n${out}\n${err}`)));
    });
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    return new Set([...err.matchAll(/^PACKAGE (\S+)$/gm)].map((m) => m[1]!));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

it('a filesystem registry starts without loading the AWS SDK, the Azure SDK or undici', { timeout: 60_000 }, async () => {
  const loaded = await packagesLoaded({});
  assert.ok(loaded.has('zod'), `the hook sees packages (saw: ${[...loaded].join(', ')})`);
  for (const pkg of ['@aws-sdk/client-s3', '@aws-sdk/s3-request-presigner', '@azure/storage-blob', '@azure/identity', 'undici']) assert.ok(!loaded.has(pkg), `${pkg} was loaded`);
});
