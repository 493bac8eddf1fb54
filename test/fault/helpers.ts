/**
 * Helpers for the fault tests: a real `ce` CLI process (background server), a tiny API client,
 * a seeded random source and a /proc scan for the processes of one job run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.ts');

/** mulberry32: a small seeded PRNG, so a failing schedule can be replayed with its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `ce …` as a separate process (as a user does). */
export function ce(
  home: string,
  args: string[],
  extraEnv: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CEJOBS_HOME: home, NO_COLOR: '1', CEJOBS_DRIVER: 'process', ...extraEnv };
  delete env.CEJOBS_API;
  delete env.CEJOBS_TOKEN;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ce ${args.join(' ')} did not finish in ${timeoutMs} ms: ${stdout}${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export interface ServerRecordLite {
  url: string;
  pid: number;
}

export function readRecord(home: string): ServerRecordLite {
  return JSON.parse(fs.readFileSync(path.join(home, 'server.json'), 'utf8')) as ServerRecordLite;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A minimal API client bound to a state home (re-reads server.json and token on every call). */
export function apiOf(home: string, fetchImpl: typeof fetch = fetch) {
  return async (method: string, p: string, body?: unknown): Promise<{ status: number; json: any; text: string }> => {
    const { url } = readRecord(home);
    const token = fs.readFileSync(path.join(home, 'token'), 'utf8').trim();
    const res = await fetchImpl(`${url}/v2/projects/default${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
}

export async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await cond()) return;
    } catch {
      // not yet (e.g. the server is restarting)
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The processes whose environment has all of `vars` (e.g. CE_JOBRUN and CE_PROJECT_ID). */
export function processesWithEnv(vars: Record<string, string>): { pid: number; env: Record<string, string> }[] {
  const found: { pid: number; env: Record<string, string> }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let raw: string;
    try {
      raw = fs.readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch {
      continue;
    }
    const env: Record<string, string> = {};
    for (const kv of raw.split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    if (Object.entries(vars).every(([k, v]) => env[k] === v)) {
      // a zombie has an empty environ, so it never matches; check it is not exiting anyway
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      } catch {
        continue;
      }
      found.push({ pid: Number(entry), env });
    }
  }
  return found;
}
