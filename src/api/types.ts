/**
 * Types of the API's composition (re-exported by app.ts).
 */
import type { DriverCapabilities } from '../drivers/driver.js';
import type { Engine } from '../engine/engine.js';

/** `GET /v2/server`: what the server is and where it keeps its state. */
export interface ServerInfo {
  version: string;
  driver: string;
  capabilities: DriverCapabilities;
  pid: number;
  state_home: string;
  /** ISO-8601. */
  started_at: string;
  /** The URL the server listens on. */
  url: string;
}

/** What `buildApp` needs. */
export interface ApiDeps {
  engine: Engine;
  /** The bearer token every request must carry (non-empty). */
  token: string;
  /** Server info, read on every `GET /v2/server`. */
  server: () => ServerInfo;
  /** Fastify's request logger (pino). @default false */
  logger?: boolean;
  /** Stream bounds and timing (tests make them small). */
  limits?: {
    /** Concurrent long-lived responses (change streams and log follows) per app. @default 100 */
    maxStreams?: number;
    /** Interval of `: keep-alive` comments on change streams. @default 15000 */
    keepAliveMs?: number;
  };
  /**
   * Called with every internal error (a bug: the client got a bare 500 with this trace id).
   * @default console.error when `logger` is off (Fastify logs it otherwise)
   */
  onInternalError?: (error: unknown, trace: string) => void;
  /** Serve HTTPS with this certificate and key (PEM); plain HTTP without. */
  https?: { cert: string | Buffer; key: string | Buffer };
}
