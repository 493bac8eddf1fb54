/**
 * A harness for API tests: the real engine (SQLite in a temp state home) on the fake driver
 * with a fake clock, and the app built over it (`app.inject`, no socket).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type ApiDeps, type ServerInfo } from '../../src/api/app.js';
import { FakeDriver, FakeRuntime, type FakeDriverOptions } from '../../src/drivers/fake/driver.js';
import type { Builder } from '../../src/builders/builder.js';
import { FakeClock } from '../../src/engine/clock.js';
import { Engine } from '../../src/engine/engine.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TOKEN}` };
export const HOST = 'api.test:8080';
export const BASE = `http://${HOST}`;

export interface ApiHarness {
  home: string;
  clock: FakeClock;
  runtime: FakeRuntime;
  engine: Engine;
  app: FastifyInstance;
  internalErrors: { error: unknown; trace: string }[];
  /** Injects with the token and Host set (override with `headers`). */
  req(options: InjectOptions & { json?: unknown }): Promise<LightMyRequestResponse>;
  /** Moves fake time and lets the engine converge. */
  tick(ms?: number): Promise<void>;
  close(): Promise<void>;
}

export const SERVER_INFO = (engine: Engine): ServerInfo => ({
  version: '0.1.0',
  driver: engine.driver.name,
  capabilities: engine.driver.capabilities,
  pid: process.pid,
  state_home: '/tmp/x',
  started_at: '2026-01-01T00:00:00.000Z',
  url: 'http://127.0.0.1:4000',
});

export async function makeApi(
  options: {
    driver?: Partial<FakeDriverOptions>;
    limits?: ApiDeps['limits'];
    engine?: (e: Engine) => Engine;
    /** The engine's secret key; `null` opens it without one. @default 32 random bytes */
    secretKey?: Buffer | null;
    /** The engine's builder (builds answer builds_unavailable without one). */
    builder?: Builder;
  } = {},
): Promise<ApiHarness> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-api-'));
  const clock = new FakeClock();
  const runtime = new FakeRuntime();
  const driver = new FakeDriver({ clock, runtime, ...options.driver });
  const secretKey = options.secretKey === null ? undefined : (options.secretKey ?? crypto.randomBytes(32));
  const engine = await Engine.open({ home, driver, clock, random: Math.random, warn: () => {}, settings: { syncBatchMs: 0 }, secretKey, ...(options.builder ? { builder: options.builder } : {}) });
  const internalErrors: ApiHarness['internalErrors'] = [];
  const app = await buildApp({
    engine: options.engine ? options.engine(engine) : engine,
    token: TOKEN,
    server: () => SERVER_INFO(engine),
    limits: options.limits,
    onInternalError: (error, trace) => internalErrors.push({ error, trace }),
  });
  const h: ApiHarness = {
    home,
    clock,
    runtime,
    engine,
    app,
    internalErrors,
    req(o) {
      const { json, ...rest } = o;
      const headers: Record<string, string> = { host: HOST, ...AUTH, ...(rest.headers as Record<string, string> | undefined) };
      const inject: InjectOptions = { ...rest, headers };
      if (json !== undefined) {
        inject.payload = JSON.stringify(json);
        headers['content-type'] ??= 'application/json';
      }
      return app.inject(inject);
    },
    async tick(ms = 0) {
      clock.advance(ms);
      for (let i = 0; i < 10_000; i++) {
        await engine.settle();
        const next = clock.nextTimerAt();
        if (next === undefined || next > clock.now()) return;
        clock.advance(0);
      }
      throw new Error('engine did not converge');
    },
    async close() {
      await app.close();
      await engine.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
  await h.tick();
  return h;
}

/** Small resources so many instances fit the fake capacity. */
export const SMALL = { scale_cpu_limit: '0.125', scale_memory_limit: '0.25G' } as const;
