/**
 * One list + watch loop per namespace over this driver's pods (label selector), so the driver
 * learns every status change from the API server's event stream and never polls a pod.
 *
 *     list ──▶ onSync(all pods) ──▶ watch from the list's resourceVersion ──▶ onPod(event) …
 *       ▲                                   │
 *       └── 410 Gone / ERROR 410 ◀──────────┤ (the version expired: list again)
 *                                           └── stream ended / failed: watch again from the
 *                                               last seen resourceVersion, after a back-off
 *
 * `BOOKMARK` events only advance the resourceVersion. After a re-list, `onSync` gets the whole
 * list, so pods deleted while no watch ran are noticed by their absence.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { statusOf, type KubeApi, type WatchEventType } from './api.js';

export interface PodWatchHandlers {
  /** The complete current list (at start and after every re-list). */
  onSync(pods: V1Pod[]): void;
  onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: V1Pod): void;
}

export interface PodWatchOptions {
  /** First back-off after a failed list or watch; doubles up to `maxBackoffMs`. @default 500 */
  backoffMs?: number;
  /** @default 30000 */
  maxBackoffMs?: number;
}

export class PodWatch {
  private resourceVersion = '';
  private abort: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private failures = 0;
  /** Lists made (the first one included); tests read it. */
  lists = 0;
  /** Watches opened; tests read it. */
  watches = 0;

  constructor(
    private readonly api: KubeApi,
    readonly namespace: string,
    private readonly selector: string,
    private readonly handlers: PodWatchHandlers,
    private readonly options: PodWatchOptions = {},
  ) {}

  /** Lists once (rejects when that fails), then keeps watching in the background. */
  async start(): Promise<void> {
    await this.list();
    this.watch();
  }

  private async list(): Promise<void> {
    const list = await this.api.listPods(this.namespace, this.selector);
    this.lists++;
    if (this.closed) return;
    this.resourceVersion = list.resourceVersion;
    this.handlers.onSync(list.items);
  }

  private relist(): void {
    if (this.closed) return;
    this.list().then(
      () => {
        this.failures = 0;
        this.watch();
      },
      () => this.retry(() => this.relist()),
    );
  }

  private retry(fn: () => void): void {
    if (this.closed) return;
    const base = this.options.backoffMs ?? 500;
    const delay = Math.min(this.options.maxBackoffMs ?? 30_000, base * 2 ** Math.min(this.failures, 16));
    this.failures++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      fn();
    }, delay);
    this.timer.unref?.();
  }

  private watch(): void {
    if (this.closed) return;
    let gone = false;
    let settled = false;
    const onDone = (err: unknown) => {
      if (settled) return;
      settled = true;
      this.abort = undefined;
      if (this.closed) return;
      if (gone || statusOf(err) === 410) return this.relist();
      if (err) return this.retry(() => this.watch());
      this.failures = 0;
      this.watch(); // a clean end (server timeout): continue from the last version
    };
    const onEvent = (type: WatchEventType, object: unknown) => {
      if (this.closed || settled) return;
      if (type === 'ERROR') {
        const code = (object as { code?: unknown })?.code;
        if (code === 410) gone = true;
        this.abort?.();
        onDone(code === 410 ? undefined : new Error(`watch error: ${JSON.stringify(object)}`));
        return;
      }
      const pod = object as V1Pod;
      const rv = pod?.metadata?.resourceVersion;
      if (rv) this.resourceVersion = rv;
      if (type === 'BOOKMARK') return;
      this.failures = 0;
      this.handlers.onPod(type, pod);
    };
    this.watches++;
    this.api.watchPods(this.namespace, this.selector, this.resourceVersion, onEvent, onDone).then(
      (abort) => {
        if (settled || this.closed) abort();
        else this.abort = abort;
      },
      (e) => onDone(e ?? new Error('watch failed')),
    );
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort?.();
  }
}
