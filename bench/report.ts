/**
 * Aggregation (median, min, max over runs), the targets, and the table: printed as text and
 * written into docs/benchmarks.md as Markdown.
 */
import type { FigureKey, RunFigures } from './workload.js';

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly values: number[];
}

export function summarize(values: number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  // lower median for an even count, so the figure is always a measured value
  return { median: s[Math.floor((s.length - 1) / 2)]!, min: s[0]!, max: s[s.length - 1]!, values };
}

export interface Target {
  /** `min`: ratio Wharf/distribution must be at least `factor`; `max`: at most. */
  readonly kind: 'min' | 'max';
  readonly factor: number;
}

export interface Row {
  readonly key: FigureKey | 'rss.whole';
  readonly label: string;
  readonly unit: string;
  readonly digits: number;
  readonly target?: Target;
}

export const ROWS: readonly Row[] = [
  { key: 'upload.monolithic', label: 'monolithic upload', unit: 'MiB/s', digits: 0, target: { kind: 'min', factor: 2 } },
  { key: 'upload.chunked', label: 'chunked upload (16 MiB chunks)', unit: 'MiB/s', digits: 0, target: { kind: 'min', factor: 2 } },
  { key: 'upload.parallel', label: 'parallel pushes (aggregate)', unit: 'MiB/s', digits: 0, target: { kind: 'min', factor: 2 } },
  { key: 'download', label: 'download, digest checked', unit: 'MiB/s', digits: 0, target: { kind: 'min', factor: 1 } },
  { key: 'manifest.get.rps', label: 'manifest GET by tag', unit: 'req/s', digits: 0, target: { kind: 'min', factor: 5 } },
  { key: 'manifest.get.p50', label: '  p50', unit: 'ms', digits: 2 },
  { key: 'manifest.get.p99', label: '  p99', unit: 'ms', digits: 2 },
  { key: 'manifest.head.rps', label: 'manifest HEAD by digest', unit: 'req/s', digits: 0, target: { kind: 'min', factor: 5 } },
  { key: 'manifest.head.p50', label: '  p50', unit: 'ms', digits: 2 },
  { key: 'manifest.head.p99', label: '  p99', unit: 'ms', digits: 2 },
  { key: 'blob.head.rps', label: 'blob HEAD', unit: 'req/s', digits: 0, target: { kind: 'min', factor: 5 } },
  { key: 'blob.head.p50', label: '  p50', unit: 'ms', digits: 2 },
  { key: 'blob.head.p99', label: '  p99', unit: 'ms', digits: 2 },
  { key: 'blob.get.rps', label: 'config blob GET', unit: 'req/s', digits: 0 },
  { key: 'blob.get.p50', label: '  p50', unit: 'ms', digits: 2 },
  { key: 'blob.get.p99', label: '  p99', unit: 'ms', digits: 2 },
  { key: 'tags.push', label: 'tag push (manifest PUTs)', unit: 'PUT/s', digits: 0 },
  { key: 'tags.list', label: 'full tag list', unit: 'ms', digits: 1, target: { kind: 'max', factor: 0.5 } },
  { key: 'repos.push', label: 'repository push (2 mounts + PUT)', unit: 'repo/s', digits: 0 },
  { key: 'catalog.list', label: 'full _catalog (n=1000 pages)', unit: 'ms', digits: 1, target: { kind: 'max', factor: 0.5 } },
  { key: 'rss.whole', label: 'peak RSS, whole run (max)', unit: 'MiB', digits: 0 },
];

/** Per phase: the median of each resource figure over runs. */
export interface UseSummary {
  readonly serverCpuS: number;
  readonly serverPeakRssMiB: number;
  readonly loadgenCpuS: number;
}

export interface ServerSummary {
  readonly figures: Partial<Record<Row['key'], Summary>>;
  readonly use: Partial<Record<Row['key'], UseSummary>>;
}

export function summarizeServer(runs: readonly { figures: RunFigures; peakRssMiB: number }[]): ServerSummary {
  const figures: Partial<Record<Row['key'], Summary>> = {};
  const use: Partial<Record<Row['key'], UseSummary>> = {};
  for (const row of ROWS) {
    if (row.key === 'rss.whole') {
      const s = summarize(runs.map((r) => r.peakRssMiB));
      if (s !== undefined) figures[row.key] = { ...s, median: s.max };
      continue;
    }
    const key = row.key;
    const found = runs.flatMap((r) => (r.figures[key] === undefined ? [] : [r.figures[key]!]));
    const s = summarize(found.map((f) => (row.unit === 'ms' && key.endsWith('.list') ? f.value * 1000 : f.value)));
    if (s === undefined) continue;
    figures[key] = s;
    use[key] = {
      serverCpuS: summarize(found.map((f) => f.use.serverCpuS))!.median,
      serverPeakRssMiB: summarize(found.map((f) => f.use.serverPeakRssMiB))!.median,
      loadgenCpuS: summarize(found.map((f) => f.use.loadgenCpuS))!.median,
    };
  }
  return { figures, use };
}

export type Verdict = 'pass' | 'miss' | '';

export function verdict(row: Row, wharf: Summary | undefined, dist: Summary | undefined): Verdict {
  if (row.key === 'rss.whole') return wharf === undefined ? '' : wharf.max <= 128 ? 'pass' : 'miss';
  if (row.target === undefined || wharf === undefined || dist === undefined || dist.median === 0) return '';
  const ratio = wharf.median / dist.median;
  return (row.target.kind === 'min' ? ratio >= row.target.factor : ratio <= row.target.factor) ? 'pass' : 'miss';
}

function fmt(n: number, digits: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cell(s: Summary | undefined, digits: number, spread: boolean): string {
  if (s === undefined) return '–';
  const m = fmt(s.median, digits);
  return spread && s.values.length > 1 ? `${m} (${fmt(s.min, digits)}–${fmt(s.max, digits)})` : m;
}

function targetText(row: Row): string {
  if (row.key === 'rss.whole') return 'Wharf ≤ 128';
  if (row.target === undefined) return '';
  return row.target.kind === 'min' ? `≥ ${row.target.factor}×` : `≤ ${row.target.factor}×`;
}

function useText(u: UseSummary | undefined): string {
  return u === undefined ? '–' : `${fmt(u.serverCpuS, 2)} s / ${fmt(u.serverPeakRssMiB, 0)} MiB`;
}

export const HEADER = ['figure', 'unit', 'Wharf median (min–max)', 'distribution median (min–max)', 'W/D', 'target', 'result',
  'Wharf CPU / peak RSS', 'dist. CPU / peak RSS', 'loadgen CPU W / D'];

/** One row per figure measured (rows of phases not run are left out). */
export function tableRows(wharf: ServerSummary, dist: ServerSummary | undefined): string[][] {
  return ROWS.filter((row) => wharf.figures[row.key] !== undefined || dist?.figures[row.key] !== undefined).map((row) => {
    const w = wharf.figures[row.key];
    const d = dist?.figures[row.key];
    const ratio = w !== undefined && d !== undefined && d.median > 0 ? `${fmt(w.median / d.median, 2)}×` : '–';
    const wu = wharf.use[row.key];
    const du = dist?.use[row.key];
    const indented = row.label.startsWith('  ');
    const lg = indented || wu === undefined ? '' : `${fmt(wu.loadgenCpuS, 2)} / ${du === undefined ? '–' : fmt(du.loadgenCpuS, 2)} s`;
    return [row.label, row.unit, cell(w, row.digits, true), cell(d, row.digits, true), ratio, targetText(row),
      verdict(row, w, d), indented ? '' : useText(wu), indented || dist === undefined ? '' : useText(du), lg];
  });
}

export function textTable(rows: string[][]): string {
  const all = [HEADER, ...rows];
  const widths = HEADER.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string => r.map((v, c) => (c >= 2 && c !== 5 && c !== 6 ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join('  ');
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function markdownTable(rows: string[][]): string {
  const esc = (v: string): string => v.replace(/\|/g, '\\|').replace(/^ {2}/, '&nbsp;&nbsp;');
  return [
    `| ${HEADER.join(' | ')} |`,
    `| ${HEADER.map((_, c) => (c >= 2 && c !== 5 && c !== 6 ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}
