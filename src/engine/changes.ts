/**
 * The engine's change notifications: a typed event map, the seam for the API's change stream,
 * for `waitForRun` and for tests (await a change instead of sleeping). Payloads carry names
 * only; listeners re-read what they need.
 */
import { EventEmitter } from 'node:events';
import type { EventReason, EventType, InstanceState, JobRunStatus } from '../domain/types.js';

export interface EngineChangeMap {
  /** A run was created, changed status or details, or was deleted (`deleted: true`). */
  run: { projectId: string; runName: string; status: JobRunStatus; deleted?: boolean };
  /** An instance changed state. */
  instance: { projectId: string; runName: string; instanceName: string; state: InstanceState };
  /** An event was recorded. */
  event: { projectId: string; runName: string; instanceName?: string; type: EventType; reason: EventReason; message: string };
}

export type EngineChange = keyof EngineChangeMap;

export class EngineEmitter {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  on<K extends EngineChange>(type: K, listener: (payload: EngineChangeMap[K]) => void): () => void {
    this.emitter.on(type, listener);
    return () => this.emitter.off(type, listener);
  }

  emit<K extends EngineChange>(type: K, payload: EngineChangeMap[K]): void {
    this.emitter.emit(type, payload);
  }
}
