/**
 * Retention: finished runs are deleted once older than `retentionMaxAgeMs` (7 days by
 * default), and beyond the newest `retentionKeepLast` finished runs of each job (or of the
 * standalone runs of a project) when that is set. Deletion goes through the normal path
 * (mark deleting, `syncRun` purges rows, logs and work files).
 */
import { runKey, type EngineContext } from './context.js';

export function applyRetention(ctx: EngineContext): void {
  const now = ctx.clock.now();
  const finished = ctx.store.finishedRuns();
  const doomed = new Set<number>();
  for (const r of finished) if (r.completionMs < now - ctx.settings.retentionMaxAgeMs) doomed.add(r.seq);
  const keep = ctx.settings.retentionKeepLast;
  if (keep !== undefined) {
    const groups = new Map<string, number[]>();
    for (const r of finished) {
      const key = `${r.projectId}/${r.jobName ?? ''}`;
      const g = groups.get(key) ?? [];
      g.push(r.seq);
      groups.set(key, g);
    }
    // `finished` is oldest first: everything before the last `keep` entries goes.
    for (const g of groups.values()) for (const seq of g.slice(0, Math.max(0, g.length - keep))) doomed.add(seq);
  }
  if (doomed.size === 0) return;
  ctx.store.transaction(() => {
    for (const seq of doomed) ctx.store.markRunDeleting(seq);
  });
  for (const seq of doomed) ctx.queue.add(runKey(seq));
}
