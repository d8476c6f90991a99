/**
 * The benchmark's smoke variant (`node dist/bench/run.js --quick`) completes and yields a sane
 * table: every figure present and positive, for distribution too when it is installed. No timing
 * thresholds: the machine may be shared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

interface Summary { median: number; min: number; max: number; values: number[] }
interface Results {
  runs: number;
  machine: { distribution?: string };
  records: { server: string; peakRssMiB: number }[];
  summaries: Record<string, { figures: Record<string, Summary>; use: Record<string, { serverCpuS: number; serverPeakRssMiB: number; loadgenCpuS: number }> }>;
  table: { header: string[]; rows: string[][] };
}

const FIGURES = [
  'upload.monolithic', 'upload.chunked', 'upload.parallel', 'download',
  'manifest.get.rps', 'manifest.get.p50', 'manifest.get.p99',
  'manifest.head.rps', 'manifest.head.p50', 'manifest.head.p99',
  'blob.head.rps', 'blob.head.p50', 'blob.head.p99',
  'blob.get.rps', 'blob.get.p50', 'blob.get.p99',
  'tags.push', 'tags.list', 'repos.push', 'catalog.list', 'rss.whole',
];

test('npm run bench -- --quick completes with every figure present and positive', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-bench-test-'));
  try {
    const out = join(dir, 'results.json');
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [RUN, '--quick', '--no-write', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      let so = '';
      let se = '';
      child.stdout.on('data', (d: Buffer) => (so += d.toString()));
      child.stderr.on('data', (d: Buffer) => (se += d.toString()));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stdout: so, stderr: se }));
    });
    assert.equal(code, 0, `bench failed:\n${stderr}\n${stdout}`);
    assert.match(stdout, /Wharf vs distribution/);
    assert.match(stdout, /manifest GET by tag/);

    const results = JSON.parse(await readFile(out, 'utf8')) as Results;
    assert.equal(results.runs, 1);
    const servers = results.machine.distribution === undefined ? ['wharf'] : ['wharf', 'distribution'];
    for (const server of servers) {
      const summary = results.summaries[server];
      assert.ok(summary, `no summary for ${server}`);
      for (const key of FIGURES) {
        const figure = summary.figures[key];
        assert.ok(figure, `${server}: ${key} missing`);
        assert.ok(Number.isFinite(figure.median) && figure.median > 0, `${server}: ${key} = ${figure.median}`);
        if (key === 'rss.whole') continue;
        const use = summary.use[key];
        assert.ok(use, `${server}: resource use for ${key} missing`);
        assert.ok(use.serverPeakRssMiB > 0, `${server}: ${key} peak RSS ${use.serverPeakRssMiB}`);
        assert.ok(use.serverCpuS >= 0 && use.loadgenCpuS >= 0, `${server}: ${key} CPU`);
      }
    }
    assert.equal(results.records.length, servers.length);
    // the printed table: one row per figure, no blank value cells
    assert.equal(results.table.rows.length, FIGURES.length);
    for (const row of results.table.rows) {
      assert.notEqual(row[2], '–', `Wharf value missing in ${row.join(' | ')}`);
      if (servers.length === 2) {
        assert.notEqual(row[3], '–', `distribution value missing in ${row.join(' | ')}`);
        assert.match(row[4] ?? '', /^[\d,.]+×$/, `ratio missing in ${row.join(' | ')}`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
