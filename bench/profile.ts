/**
 * Summarises V8 `.cpuprofile` files (from `node --cpu-prof`): self time per function, top N,
 * for the whole process or sliced by the harness's phase windows (V8 stamps samples with
 * CLOCK_MONOTONIC microseconds, the clock process.hrtime uses, so the slices line up).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PhaseWindow } from './proc.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
  readonly startTime: number;
}

export interface SelfTime {
  readonly fn: string;
  readonly ms: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly label: string;
  readonly totalMs: number;
  readonly rows: SelfTime[];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url === '' ? '' : ` ${url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}`;
  return `${functionName === '' ? '(anonymous)' : functionName}${where}`;
}

const VM = new Set(['(idle)', '(program)', '(garbage collector)']);

function summary(name: string, self: Map<string, number>, top: number): ProfileSummary {
  let totalMs = 0;
  for (const ms of self.values()) totalMs += ms;
  const rows = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, ms]) => ({ fn: VM.has(fn) ? `${fn} [vm]` : fn, ms, share: totalMs === 0 ? 0 : ms / totalMs }));
  return { label: name, totalMs, rows };
}

/**
 * Self time per function over every profile in `dir`: one summary for everything, then one per
 * window label (windows with the same label, e.g. the same phase in several runs, are merged).
 */
export async function topSelfTime(dir: string, windows: readonly PhaseWindow[] = [], top = 15): Promise<{ files: number; summaries: ProfileSummary[] }> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const whole = new Map<string, number>();
  const byLabel = new Map<string, Map<string, number>>();
  for (const w of windows) if (!byLabel.has(w.label)) byLabel.set(w.label, new Map());
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    let t = profile.startTime;
    for (let i = 0; i < samples.length; i++) {
      t += deltas[i] ?? 0;
      const node = byId.get(samples[i]!);
      if (node === undefined) continue;
      const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
      const key = label(node);
      whole.set(key, (whole.get(key) ?? 0) + ms);
      for (const w of windows) {
        if (t < w.startUs || t > w.endUs) continue;
        const m = byLabel.get(w.label)!;
        m.set(key, (m.get(key) ?? 0) + ms);
      }
    }
  }
  return {
    files: files.length,
    summaries: [summary('whole process', whole, top), ...[...byLabel.entries()].map(([l, m]) => summary(l, m, top))],
  };
}

export function profileText(result: { files: number; summaries: ProfileSummary[] }): string {
  const lines = [`${result.files} profile(s); self time, top functions:`];
  for (const s of result.summaries) {
    lines.push(`  ${s.label} (${(s.totalMs / 1000).toFixed(2)} s sampled):`);
    for (const r of s.rows) lines.push(`    ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.fn}`);
  }
  return lines.join('\n');
}
