/**
 * `npm run bench [-- options]`: Wharf side by side with distribution's registry. See
 * docs/benchmarks.md for the method; `--help` for the options.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeBlob } from './http.js';
import { distributionPath, distributionVersion, removeInBackground, startServer, waitForBackgroundRemovals, type ServerKind } from './servers.js';
import type { PhaseWindow } from './proc.js';
import { FULL, QUICK, PHASES, makeBlobs, runWorkload, type Phase, type RunFigures } from './workload.js';
import { HEADER, ROWS, markdownTable, summarizeServer, tableRows, textTable, verdict, type ServerSummary } from './report.js';
import { machine, refreshDocs } from './docs.js';
import { profileText, topSelfTime } from './profile.js';

const HELP = `usage: node dist/bench/run.js [options]
  --quick             small sizes, 1 run, 2 s load phases (smoke test, < 1 min)
  --runs N            runs per server (default 3; 1 with --quick)
  --phases a,b        only these phases (${PHASES.join(', ')})
  --no-distribution   measure Wharf only
  --profile           run Wharf under node --cpu-prof and print the top self-time functions
  --no-write          do not write bench/results/ or docs/benchmarks.md
  --out FILE          write the raw JSON results to FILE (also with --no-write)`;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface RunRecord {
  readonly run: number;
  readonly server: ServerKind;
  readonly figures: RunFigures;
  readonly peakRssMiB: number;
  readonly windows: PhaseWindow[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      phases: { type: 'string' },
      'no-distribution': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const sizes = values.quick ? QUICK : FULL;
  const runs = values.runs === undefined ? (values.quick ? 1 : 3) : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: ${values.runs}`);
  const chosen = values.phases === undefined ? [...PHASES] : values.phases.split(',').map((p) => p.trim());
  for (const p of chosen) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`unknown phase ${p}; phases: ${PHASES.join(', ')}`);
  const phases = new Set(chosen as Phase[]);
  const withDistribution = !values['no-distribution'] && distributionPath() !== undefined;
  const servers: ServerKind[] = withDistribution ? ['wharf', 'distribution'] : ['wharf'];
  const profileDir = values.profile ? await mkdtemp(join(tmpdir(), 'wharf-bench-prof-')) : undefined;
  const started = new Date();
  const m = machine(withDistribution ? distributionVersion() : undefined);
  const log = (line: string): void => console.error(line);

  log(`wharf bench: ${values.quick ? 'quick' : 'full'}, ${runs} run(s), servers: ${servers.join(', ')}; ${m.cpus} cores, load ${m.loadAverage.join(' ')}`);
  if (!withDistribution && !values['no-distribution']) log('docker-registry is not on PATH: measuring Wharf only (apt-get install docker-registry)');
  const t0 = performance.now();
  const blobs = makeBlobs(sizes, makeBlob);
  log(`blobs hashed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  await waitForBackgroundRemovals(log);

  const records: RunRecord[] = [];
  const storage: string[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      const order = run % 2 === 1 ? servers : [...servers].reverse();
      for (const kind of order) {
        log(`run ${run}/${runs}: ${kind}`);
        // The previous server's gigabytes still being written back would slow this one's disk.
        spawnSync('sync');
        const server = await startServer(kind, kind === 'wharf' && profileDir !== undefined ? { profileDir } : {});
        storage.push(server.dir);
        try {
          const result = await runWorkload(server.url, server.pid, sizes, blobs, phases, log);
          records.push({ run, server: kind, ...result });
          log(`    peak RSS ${result.peakRssMiB.toFixed(0)} MiB`);
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    // Deleting tens of thousands of small files takes ~30 s per run on a busy disk; it happens
    // after the measurements, in the background, so it neither skews them nor lengthens the run
    // (the next run waits for it: waitForBackgroundRemovals).
    removeInBackground(storage);
  }

  const summaries: Partial<Record<ServerKind, ServerSummary>> = {};
  for (const kind of servers) summaries[kind] = summarizeServer(records.filter((r) => r.server === kind));
  const wharf = summaries.wharf!;
  const rows = tableRows(wharf, summaries.distribution);
  const elapsedS = (performance.now() - t0) / 1000;
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  console.log(`\nWharf vs distribution — ${started.toISOString()}, ${m.cpus} cores, node ${m.node}, ${runs} run(s), ${elapsedS.toFixed(0)} s\n`);
  console.log(textTable(rows));

  const loadEnd = loadavg().map((l) => l.toFixed(2)).join(' ');
  const notes: string[] = [
    'The load generator runs on the same machine as the server under test and competes with it for CPU.',
    `Load average (1, 5, 15 min) at start ${m.loadAverage.join(' ')}, at end ${loadEnd}: on a 2-core machine anything above ~1 means other work shared the CPUs.`,
    `Whole bench took ${(elapsedS / 60).toFixed(1)} min.`,
  ];
  if (!withDistribution) notes.push('docker-registry was not on PATH: Wharf only, no ratios.');
  const missed = ROWS.filter((r) => verdict(r, wharf.figures[r.key], summaries.distribution?.figures[r.key]) === 'miss').map((r) => r.label);
  notes.push(missed.length === 0 ? 'Every target met.' : `Targets missed: ${missed.join('; ')}.`);

  let profile: Awaited<ReturnType<typeof topSelfTime>> | undefined;
  if (profileDir !== undefined) {
    profile = await topSelfTime(profileDir, records.filter((r) => r.server === 'wharf').flatMap((r) => r.windows));
    console.log(`\nWharf CPU profile (${profileDir}):\n${profileText(profile)}`);
  }

  const raw = {
    date: started.toISOString(),
    command,
    quick: values.quick,
    runs,
    phases: [...phases],
    sizes,
    machine: m,
    elapsedS,
    loadAverageEnd: loadavg(),
    records,
    summaries,
    table: { header: HEADER, rows },
    ...(profile === undefined ? {} : { profile }),
  };
  const json = `${JSON.stringify(raw, null, 2)}\n`;
  if (values.out !== undefined) await writeFile(values.out, json);
  if (!values['no-write']) {
    const stamp = started.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
    const dir = join(ROOT, 'bench', 'results');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${stamp}${values.quick ? '-quick' : ''}.json`);
    await writeFile(file, json);
    log(`raw results: ${relative(ROOT, file)}`);
    const complete = !values.quick && values.phases === undefined && !values.profile;
    if (complete) {
      await refreshDocs(join(ROOT, 'docs', 'benchmarks.md'), {
        machine: m, date: started.toISOString(), command, runs, table: markdownTable(rows), notes, resultsFile: relative(ROOT, file),
      });
      log('refreshed docs/benchmarks.md');
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
