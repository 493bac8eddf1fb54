/**
 * Long-lived responses (the change stream, followed logs): a bound on how many are open at
 * once, and the plumbing to write to a hijacked response with backpressure and to notice when
 * the client goes away.
 */
import { once } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/** Counts open streams against a maximum; `acquire` throws 429 `too_many_streams` beyond it. */
export class StreamLimiter {
  private open = 0;
  private readonly closers = new Set<() => void>();

  constructor(readonly max: number) {}

  get count(): number {
    return this.open;
  }

  /** Takes a slot or throws 429; returns the release function (idempotent). */
  acquire(): () => void {
    if (this.open >= this.max) {
      throw new ApiError('too_many_streams', `too many open streams (the limit is ${this.max}); close one and retry`);
    }
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
    };
  }

  /** Registers a closer run by `closeAll` (server shutdown); returns its unregister. */
  track(close: () => void): () => void {
    this.closers.add(close);
    return () => this.closers.delete(close);
  }

  /** Ends every open stream (on app close). */
  closeAll(): void {
    for (const c of [...this.closers]) c();
  }
}

/**
 * A hijacked response. Create it first (its `signal` can be handed to a follower), then `open`
 * it: the reply is hijacked and the headers written at once. `write` honours backpressure;
 * `signal` is aborted when the client disconnects or `end` is called.
 */
export class StreamWriter {
  private readonly controller = new AbortController();
  readonly signal: AbortSignal = this.controller.signal;

  constructor(
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
  ) {}

  /** Hijacks the reply and writes a 200 with `contentType`. */
  open(contentType: string): void {
    const { request, reply } = this;
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': contentType,
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    raw.flushHeaders?.();
    const gone = (): void => this.controller.abort();
    raw.on('close', gone);
    raw.on('error', gone);
    // a real socket closing, or an injected request aborted
    request.raw.on('aborted', gone);
    request.raw.on('close', () => {
      if (request.raw.errored || !request.raw.complete) gone();
    });
    request.raw.socket?.on('close', gone);
  }

  get closed(): boolean {
    return this.signal.aborted || this.reply.raw.writableEnded || this.reply.raw.destroyed;
  }

  /** Writes a chunk; waits for `drain` when the client is slow. False when the client is gone. */
  async write(chunk: string): Promise<boolean> {
    if (this.closed) return false;
    if (!this.reply.raw.write(chunk)) {
      try {
        await once(this.reply.raw, 'drain', { signal: this.signal });
      } catch {
        return false;
      }
    }
    return !this.closed;
  }

  /** Ends the response (once) and aborts `signal`. */
  end(): void {
    if (!this.reply.raw.writableEnded && !this.reply.raw.destroyed) this.reply.raw.end();
    this.controller.abort();
  }
}
