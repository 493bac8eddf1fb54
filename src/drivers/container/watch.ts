/**
 * Exit detection: the engine's event stream (`die` events, which carry `exitCode`; filtered
 * on this driver's owner label — Podman ignores an `event` filter, so `die` is picked here), plus a periodic `inspect` of every running attempt as a
 * fallback for lost events or a broken stream. The stream is reopened (100 ms doubling to
 * 5 s) until `close`.
 */
import type Docker from 'dockerode';
import { LABEL } from './create.js';

export interface DieEvent {
  attemptId: string;
  containerId: string;
  exitCode: number | undefined;
}

export class ExitWatcher {
  private stream: (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
  private closed = false;
  private retryMs = 100;
  private timer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly docker: Docker,
    private readonly owner: string,
    private readonly onDie: (e: DieEvent) => void,
    private readonly onPoll: () => Promise<void>,
    private readonly pollMs: number,
  ) {}

  /** Opens the event stream (resolves once it is open, so no exit after it is missed). */
  async start(): Promise<void> {
    await this.open();
    const tick = () => {
      if (this.closed) return;
      this.onPoll()
        .catch(() => {})
        .finally(() => {
          if (this.closed) return;
          this.pollTimer = setTimeout(tick, this.pollMs);
          this.pollTimer.unref();
        });
    };
    this.pollTimer = setTimeout(tick, this.pollMs);
    this.pollTimer.unref();
  }

  private async open(): Promise<void> {
    try {
      const stream = (await this.docker.getEvents({
        // No `event: ['die']` filter: Podman 4.3 then sends nothing. Filtered below instead.
        filters: { type: ['container'], label: [`${LABEL.owner}=${this.owner}`] },
      })) as NodeJS.ReadableStream & { destroy?: () => void };
      if (this.closed) {
        stream.destroy?.();
        return;
      }
      this.stream = stream;
      this.retryMs = 100;
      let pending = '';
      stream.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) this.handleLine(line);
      });
      const reopen = () => {
        if (this.stream !== stream) return;
        this.stream = undefined;
        this.scheduleReopen();
      };
      stream.on('end', reopen);
      stream.on('close', reopen);
      stream.on('error', reopen);
    } catch {
      this.scheduleReopen();
    }
  }

  private scheduleReopen(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.open();
    }, this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(5000, this.retryMs * 2);
    // Events may have been missed while the stream was down: the poll catches them.
    void this.onPoll().catch(() => {});
  }

  private handleLine(line: string): void {
    if (!line.trim()) return;
    let e: { Action?: string; status?: string; id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    if ((e.Action ?? e.status) !== 'die') return;
    const attrs = e.Actor?.Attributes ?? {};
    const attemptId = attrs[LABEL.attempt];
    if (!attemptId || attrs[LABEL.owner] !== this.owner) return;
    const code = attrs.exitCode !== undefined ? Number(attrs.exitCode) : undefined;
    this.onDie({
      attemptId,
      containerId: e.Actor?.ID ?? e.id ?? '',
      exitCode: code !== undefined && Number.isFinite(code) ? code : undefined,
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    const s = this.stream;
    this.stream = undefined;
    s?.destroy?.();
  }
}

/**
 * True when the container has really ended. Podman reports `Running: false` with `ExitCode: 0`
 * while a stop waits for its grace (`Status: 'stopping'`): that is not an exit.
 */
export function hasEnded(state: { Running?: boolean; Status?: string }): boolean {
  if (state.Running) return false;
  return state.Status === 'exited' || state.Status === 'stopped' || state.Status === 'dead';
}
