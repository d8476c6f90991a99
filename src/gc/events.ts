/** What the collector reports while it runs: phases, progress, deletions and warnings. */

export type GcPhase = 'repositories' | 'mark' | 'blobs' | 'sweep';

export type DeletedKind = 'manifest' | 'blob' | 'layer link' | 'referrer entry';

export type GcEvent =
  | { readonly type: 'phase'; readonly phase: GcPhase; readonly total?: number | undefined }
  | { readonly type: 'progress'; readonly phase: GcPhase; readonly done: number; readonly total?: number | undefined }
  | { readonly type: 'phase-end'; readonly phase: GcPhase; readonly done: number }
  /** Something removed, or with a dry run, that would be. */
  | { readonly type: 'delete'; readonly kind: DeletedKind; readonly repository?: string | undefined; readonly digest: string; readonly bytes?: number | undefined; readonly dryRun: boolean }
  | { readonly type: 'warning'; readonly message: string };

export type GcListener = (event: GcEvent) => void;
