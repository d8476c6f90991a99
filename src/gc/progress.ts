/**
 * How `wharf gc` shows a run. Three modes:
 * - `tty`: a one-line progress bar on stderr, redrawn at most ten times a second; each removal is
 *   a line on stdout (the bar is cleared first and redrawn after);
 * - `plain` (stderr is not a terminal): a line when a phase starts, at every 10 % of it, and when it
 *   ends, on stderr; removals on stdout as above;
 * - `quiet`: nothing but warnings (stderr) and the summary.
 * The summary goes to stdout in every mode.
 */
import type { GcEvent, GcPhase } from './events.js';
import type { GcReport } from './collector.js';

export type ProgressMode = 'tty' | 'plain' | 'quiet';

export interface ProgressOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Terminal width, for the bar (default 80). */
  readonly columns?: number | undefined;
  readonly now?: () => number;
}

const PHASE_LABEL: Record<GcPhase, string> = {
  repositories: 'walking repositories',
  mark: 'marking',
  blobs: 'sweeping blobs',
  sweep: 'sweeping repositories',
};

const UNIT: Record<GcPhase, string> = { repositories: 'repositories', mark: 'repositories', blobs: 'blob prefixes', sweep: 'repositories' };

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

export function formatSummary(report: GcReport): string {
  const would = report.dryRun ? 'would be ' : '';
  return [
    `garbage collection ${report.dryRun ? 'dry run done: nothing was deleted' : 'done'}${report.deleteUntagged ? ' (--delete-untagged)' : ''}`,
    `  repositories      ${report.repositories}`,
    `  manifests         ${report.manifestsExamined} examined, ${report.manifestsDeleted} ${would}deleted (${report.tagLinksDeleted} tag index links)`,
    `  blobs             ${report.blobsExamined} examined, ${report.blobsDeleted} ${would}deleted, ${formatBytes(report.bytesFreed)} ${report.dryRun ? 'would be ' : ''}freed`,
    `  layer links       ${report.layerLinksDeleted} ${would}deleted`,
    `  referrer entries  ${report.referrerEntriesDeleted} ${would}deleted`,
    ...(report.keptAsNew > 0 ? [`  kept as new       ${report.keptAsNew} (written while gc ran)`] : []),
    ...(report.warnings > 0 ? [`  warnings          ${report.warnings}`] : []),
    `  time              ${seconds(report.totalMs)} (mark ${seconds(report.markMs)}, sweep ${seconds(report.sweepMs)})`,
    '',
  ].join('\n');
}

function deletionLine(event: Extract<GcEvent, { type: 'delete' }>): string {
  const verb = event.dryRun ? 'would delete' : 'deleted';
  const where = event.repository === undefined ? '' : ` ${event.repository}`;
  const size = event.bytes === undefined ? '' : ` (${formatBytes(event.bytes)})`;
  return `${verb} ${event.kind}${where} ${event.digest}${size}\n`;
}

export class ProgressReporter {
  private phase: GcPhase | undefined;
  private started = 0;
  private done = 0;
  private total: number | undefined;
  private lastDraw = 0;
  private lastDecile = -1;
  private barShown = false;
  private readonly now: () => number;

  constructor(
    private readonly mode: ProgressMode,
    private readonly out: ProgressOutput,
  ) {
    this.now = out.now ?? Date.now;
  }

  readonly listener = (event: GcEvent): void => {
    switch (event.type) {
      case 'warning':
        this.clearBar();
        this.out.stderr(`warning: ${event.message}\n`);
        this.draw(true);
        return;
      case 'delete':
        if (this.mode === 'quiet') return;
        this.clearBar();
        this.out.stdout(deletionLine(event));
        this.draw(true);
        return;
      case 'phase':
        this.phase = event.phase;
        this.started = this.now();
        this.done = 0;
        this.total = event.total;
        this.lastDecile = -1;
        if (this.mode === 'plain') this.out.stderr(`${PHASE_LABEL[event.phase]}${event.total === undefined ? '' : ` (${event.total} ${UNIT[event.phase]})`}\n`);
        this.draw(true);
        return;
      case 'progress':
        this.done = event.done;
        this.total = event.total ?? this.total;
        if (this.mode === 'plain' && this.total !== undefined && this.total > 0) {
          const decile = Math.floor((10 * this.done) / this.total);
          if (decile > this.lastDecile && decile < 10) {
            this.lastDecile = decile;
            if (decile > 0) this.out.stderr(`${PHASE_LABEL[event.phase]}: ${this.done}/${this.total} ${UNIT[event.phase]} (${Math.floor((100 * this.done) / this.total)}%)\n`);
          }
        }
        this.draw(false);
        return;
      case 'phase-end':
        this.done = event.done;
        this.draw(true);
        if (this.mode === 'tty' && this.barShown) this.out.stderr('\n');
        this.barShown = false;
        if (this.mode === 'plain') this.out.stderr(`${PHASE_LABEL[event.phase]}: done in ${seconds(this.now() - this.started)}\n`);
        this.phase = undefined;
        return;
    }
  };

  private clearBar(): void {
    if (this.mode === 'tty' && this.barShown) {
      this.out.stderr('\r\x1b[K');
      this.barShown = false;
    }
  }

  private draw(force: boolean): void {
    if (this.mode !== 'tty' || this.phase === undefined) return;
    const now = this.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const label = PHASE_LABEL[this.phase].padEnd(22);
    const count = this.total === undefined ? `${this.done} ${UNIT[this.phase]}` : `${this.done}/${this.total} ${UNIT[this.phase]}`;
    const time = seconds(now - this.started);
    let bar = '';
    if (this.total !== undefined && this.total > 0) {
      const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - label.length - count.length - time.length - 12));
      const filled = Math.min(width, Math.round((width * this.done) / this.total));
      bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor((100 * this.done) / this.total)).padStart(3)}% `;
    }
    this.out.stderr(`\r\x1b[K${label}${bar}${count}  ${time}`);
    this.barShown = true;
  }
}
