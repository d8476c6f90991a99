/**
 * The machine's ceiling for a blob upload, without any registry: a bare `node:http` server that
 * takes one PUT of `MiB` MiB and (by mode) discards it, pipes it into a file, hashes it too, and
 * fdatasyncs the file at the end; the client streams the same synthetic content as the bench.
 * `node dist/bench/ceiling.js [MiB]` (default 512) prints MiB/s and the server's CPU per mode.
 */
import http from 'node:http';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;
const MODES = ['discard', 'file', 'file+hash', 'file+hash+fdatasync'] as const;
type Mode = (typeof MODES)[number];

async function serve(mode: Mode, dir: string): Promise<void> {
  let n = 0;
  const server = http.createServer((req, res) => {
    const file = join(dir, `blob-${n++}`);
    const hash = mode.includes('hash') ? createHash('sha256') : undefined;
    const sink = mode === 'discard' ? new Writable({ write: (_c, _e, cb) => cb() }) : createWriteStream(file, { highWaterMark: 512 * 1024 });
    if (hash) req.on('data', (c: Buffer) => hash.update(c));
    pipeline(req, sink)
      .then(async () => {
        if (mode.endsWith('fdatasync')) {
          const fh = await fs.open(file, 'r');
          await fh.datasync();
          await fh.close();
        }
        const cpu = process.cpuUsage();
        res.end(JSON.stringify({ cpu: (cpu.user + cpu.system) / 1e6, digest: hash?.digest('hex') }));
      })
      .catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : 0}\n`);
  });
}

function* content(mib: number): Generator<Buffer> {
  const block = randomBytes(MiB);
  for (let i = 0; i < mib; i++) {
    block.writeUInt32BE(i, 0);
    yield Buffer.from(block);
  }
}

async function measure(mode: Mode, mib: number): Promise<void> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'wharf-ceiling-'));
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'server', mode, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  const started = process.hrtime.bigint();
  const reply = await new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/', headers: { 'content-length': mib * MiB } });
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve(Buffer.concat(chunks).toString()));
    });
    req.once('error', reject);
    pipeline(Readable.from(content(mib)), req).catch(reject);
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  child.kill();
  await fs.rm(dir, { recursive: true, force: true });
  const { cpu } = JSON.parse(reply) as { cpu: number };
  process.stdout.write(`${mode.padEnd(22)} ${(mib / seconds).toFixed(0).padStart(5)} MiB/s  server CPU ${cpu.toFixed(2)} s  wall ${seconds.toFixed(2)} s\n`);
}

if (process.argv[2] === 'server') {
  await serve(process.argv[3] as Mode, process.argv[4] ?? tmpdir());
} else {
  const mib = Number(process.argv[2] ?? 512);
  for (const mode of MODES) await measure(mode, mib);
}
