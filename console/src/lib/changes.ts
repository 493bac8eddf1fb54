/**
 * One change stream per project (`client.changes`), shared by every page through `ChangeHub`:
 * pages subscribe with a predicate and re-read only what a message concerns (see `useLive`).
 * The hub reconnects with backoff (1 s doubling to 15 s) and, once the stream is open again,
 * tells every subscriber to re-read (`resync`), since messages may have been missed meanwhile.
 */
import { createContext, useContext } from 'react';
import { isApiError, type CejobsClient, type ChangeMessage } from '../../../src/client/index.js';

export type HubMessage = ChangeMessage | { event: 'resync' };
export type HubListener = (message: HubMessage) => void;
export type HubStatus = 'connecting' | 'live' | 'offline';

export class ChangeHub {
  private readonly listeners = new Set<HubListener>();
  private readonly statusListeners = new Set<(s: HubStatus) => void>();
  private readonly abort = new AbortController();
  status: HubStatus = 'connecting';

  constructor(
    private readonly client: CejobsClient,
    private readonly project: string,
    private readonly onUnauthorized: () => void,
  ) {
    void this.loop();
  }

  subscribe(listener: HubListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStatus(listener: (s: HubStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  close(): void {
    this.abort.abort();
    this.listeners.clear();
    this.statusListeners.clear();
  }

  private setStatus(s: HubStatus): void {
    this.status = s;
    for (const l of this.statusListeners) l(s);
  }

  private emit(m: HubMessage): void {
    for (const l of [...this.listeners]) l(m);
  }

  private async loop(): Promise<void> {
    let delay = 1000;
    let first = true;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      this.setStatus('connecting');
      try {
        const stream = this.client.changes(this.project, {
          signal,
          onOpen: () => {
            this.setStatus('live');
            delay = 1000;
            if (!first) this.emit({ event: 'resync' });
            first = false;
          },
        });
        for await (const m of stream) this.emit(m);
      } catch (e) {
        if (signal.aborted) return;
        if (isApiError(e) && e.status === 401) return this.onUnauthorized();
      }
      if (signal.aborted) return;
      first = false;
      this.setStatus('offline');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  }
}

export const ChangeHubContext = createContext<ChangeHub | null>(null);

export function useChangeHub(): ChangeHub | null {
  return useContext(ChangeHubContext);
}
