/**
 * The native log pump (native/logpump.c through src/launcher/output-capture.ts) writes the same
 * bytes LogWriter alone writes: real child processes write into real pipes, the pump captures
 * them into a log file with a fixed clock, and the file is compared with LogWriter's own output
 * for the same input, fed in random chunks — including what the pump hands to LogWriter
 * (carriage returns, invalid UTF-8, lines over 16 KiB, rotation at a small cap).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeLogText, rotatedPath } from '../../src/logs/format.js';
import { LogWriter } from '../../src/logs/writer.js';
import { loadNativeAddon } from '../../src/launcher/child.js';
import { LogPump, type LogPumpAddon } from '../../src/launcher/output-capture.js';

const loaded = loadNativeAddon();
const addon = 'addon' in loaded ? (loaded.addon as unknown as LogPumpAddon & { spawn: (...a: unknown[]) => Promise<{ pid: number; stdout: number; stderr: number }> }) : null;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-pump-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const FIXED = Date.parse('2026-11-21T10:00:00.123Z');
let seq = 0;

/** A deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function asciiLines(rnd: () => number, bytes: number): Buffer {
  const parts: string[] = [];
  for (let n = 0; n < bytes; ) {
    const len = Math.floor(rnd() * 200);
    const line = 'x'.repeat(len).replace(/x/g, () => String.fromCharCode(32 + Math.floor(rnd() * 95)));
    parts.push(line, '\n');
    n += len + 1;
  }
  return Buffer.from(parts.join(''));
}

/** Lines that need LogWriter's other rules, between plain ones. */
function awkwardLines(rnd: () => number, count: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const k = rnd();
    if (k < 0.6) parts.push(Buffer.from(`plain line ${i} ${'ab'.repeat(Math.floor(rnd() * 50))}\n`));
    else if (k < 0.7) parts.push(Buffer.from(`windows line ${i}\r\n`));
    else if (k < 0.78) parts.push(Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0xc3, 0x28, 0x0a]));
    else if (k < 0.86) parts.push(Buffer.from(`héllo wörld ✓ 🚀 ${i}\n`));
    else if (k < 0.93) parts.push(Buffer.from(`${'L'.repeat(16384 + Math.floor(rnd() * 30000))}\n`));
    else parts.push(Buffer.from('R'.repeat(16384 * 2 + Math.floor(rnd() * 1000)))); // a runaway, no newline yet
  }
  parts.push(Buffer.from('the end without a newline'));
  return Buffer.concat(parts);
}

/** What LogWriter alone writes for `input` on `stream`, fed in random chunks. */
function expected(input: Buffer, stream: 'stdout' | 'stderr', maxBytes: number, rnd: () => number): { main: string; rotated: string | null } {
  const file = path.join(tmp, `expected-${seq++}.log`);
  const w = new LogWriter(file, { maxBytes, now: () => FIXED });
  for (let i = 0; i < input.length; ) {
    const n = 1 + Math.floor(rnd() * 70000);
    w.write(stream, input.subarray(i, i + n));
    i += n;
  }
  w.close();
  return read(file);
}

function read(file: string): { main: string; rotated: string | null } {
  const r = rotatedPath(file);
  return { main: fs.existsSync(file) ? fs.readFileSync(file, 'latin1') : '', rotated: fs.existsSync(r) ? fs.readFileSync(r, 'latin1') : null };
}

let pump: LogPump | null = null;

/** Runs `sh -c script` with its output captured by the pump; returns the log file's content. */
async function pumped(script: string, maxBytes: number, flushMs = 200, drainMs = 10_000): Promise<{ main: string; rotated: string | null }> {
  pump ??= new LogPump(addon!, FIXED);
  const file = path.join(tmp, `pumped-${seq++}.log`);
  const writer = new LogWriter(file, { maxBytes, now: () => FIXED });
  const r = await addon!.spawn('/bin/sh', ['sh', '-c', script], ['PATH=/usr/bin:/bin'], tmp, [], -1, -1, []);
  const capture = pump.capture(r.stdout, r.stderr, writer, flushMs);
  await Promise.race([capture.drained, new Promise((res) => setTimeout(res, drainMs))]);
  await capture.release();
  writer.close();
  return read(file);
}

describe.skipIf(!addon)('native log pump', () => {
  it('writes plain lines byte for byte as LogWriter does (5 MB, stdout and stderr)', async () => {
    const input = asciiLines(random(1), 5_000_000);
    const file = path.join(tmp, 'plain.in');
    fs.writeFileSync(file, input);
    const got = await pumped(`cat ${file}`, 1e9);
    expect(got).toEqual(expected(input, 'stdout', 1e9, random(2)));
    // One clock: one full record (27 bytes of framing), then short ones (2 bytes).
    const lines = input.toString('latin1').split('\n').length - 1;
    expect(got.main.length).toBe(input.length + 27 + 2 * (lines - 1));
    expect(await pumped(`cat ${file} >&2`, 1e9)).toEqual(expected(input, 'stderr', 1e9, random(3)));
    expect(pump!.handedOver).toEqual({ slow: 0, flush: 0 }); // all written by the pump itself
  });

  it('hands what needs LogWriter to it and keeps the order: \\r, invalid UTF-8, long and runaway lines', async () => {
    const before = pump?.handedOver.slow ?? 0;
    for (const seed of [11, 12, 13]) {
      const input = awkwardLines(random(seed), 400);
      const file = path.join(tmp, `awkward-${seed}.in`);
      fs.writeFileSync(file, input);
      expect(await pumped(`cat ${file}`, 1e9)).toEqual(expected(input, 'stdout', 1e9, random(seed + 100)));
    }
    expect(pump!.handedOver.slow).toBeGreaterThan(before);
  });

  it('rotates at the cap exactly as LogWriter does', async () => {
    const input = Buffer.concat([asciiLines(random(21), 300_000), awkwardLines(random(22), 50)]);
    const file = path.join(tmp, 'rotate.in');
    fs.writeFileSync(file, input);
    const got = await pumped(`cat ${file}`, 64 * 1024);
    expect(got.rotated).not.toBeNull();
    expect(got).toEqual(expected(input, 'stdout', 64 * 1024, random(23)));
  });

  it('flushes a partial line that waits, and the rest of it becomes the next record', async () => {
    const got = await pumped("printf 'waiting...'; sleep 0.6; printf ' done\\nlast'", 1e9, 100);
    expect(decodeLogText(got.main).map((r) => r.text)).toEqual(['waiting...', ' done', 'last']);
  });

  it('tells text it writes itself from text for LogWriter at every position of its 16- and 8-byte checks', async () => {
    // Valid multi-byte characters at offsets 0..40 of a line (inside, across and after the
    // blocks the ASCII check reads at once): all written by the pump itself.
    const chars = ['é', '✓', '🚀', '\u07ff', '\uffff', '\u{10ffff}'];
    const valid: string[] = [];
    for (let k = 0; k <= 40; k++) for (const c of chars) valid.push(`${'a'.repeat(k)}${c}${'b'.repeat(40 - k)}\n`);
    const validIn = Buffer.from(valid.join(''));
    const before = pump?.handedOver.slow ?? 0;
    const validFile = path.join(tmp, 'valid-offsets.in');
    fs.writeFileSync(validFile, validIn);
    expect(await pumped(`cat ${validFile}`, 1e9)).toEqual(expected(validIn, 'stdout', 1e9, random(31)));
    expect(pump!.handedOver.slow).toBe(before);
    // A carriage return, an invalid byte, an overlong or surrogate encoding and a truncated
    // sequence at the same offsets, in reads of several lengths (so each also lands in the 8-byte
    // tail and the byte-by-byte end): each found, so LogWriter writes the read.
    const bad = [Buffer.from('\r'), Buffer.from([0xff]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe2, 0x9c])];
    const cases: Buffer[] = [];
    for (let k = 0; k <= 40; k++) {
      for (const tail of [0, 5, 13]) for (const b of bad) cases.push(Buffer.concat([Buffer.from('a'.repeat(k)), b, Buffer.from(`${'b'.repeat(tail)}\n`)]));
    }
    const handed = pump!.handedOver.slow;
    for (let i = 0; i < cases.length; i += 50) {
      const batch = cases.slice(i, i + 50);
      const got = await Promise.all(
        batch.map((input, j) => {
          const file = path.join(tmp, `bad-${i + j}.in`);
          fs.writeFileSync(file, input);
          return pumped(`cat ${file}`, 1e9);
        }),
      );
      batch.forEach((input, j) => expect(got[j], `case ${i + j}: ${JSON.stringify(input.toString('latin1'))}`).toEqual(expected(input, 'stdout', 1e9, random(i + j))));
    }
    expect(pump!.handedOver.slow).toBe(handed + cases.length);
  });

  it('release stops reading pipes a leftover process still holds, keeping what was read', async () => {
    const got = await pumped('echo before; (sleep 30 &) ; echo after', 1e9, 200, 300);
    expect(decodeLogText(got.main).map((r) => r.text)).toEqual(['before', 'after']);
  });

  it('ends a capture whose descriptors are not open (an add that must wake the pump), and one with a single open pipe', async () => {
    pump ??= new LogPump(addon!, FIXED);
    const none = new LogWriter(path.join(tmp, `closed-${seq++}.log`), { maxBytes: 1e9, now: () => FIXED });
    await pump.capture(999_999, 999_998, none, 200).drained; // never resolves if the add waits for an event
    const r = await addon!.spawn('/bin/sh', ['sh', '-c', 'sleep 0.2; echo only stdout'], ['PATH=/usr/bin:/bin'], tmp, [], -1, -1, []);
    fs.closeSync(r.stderr);
    const half = new LogWriter(path.join(tmp, `half-${seq++}.log`), { maxBytes: 1e9, now: () => FIXED });
    await pump.capture(r.stdout, 999_997, half, 200).drained;
    half.close();
    expect(decodeLogText(read(half.path).main).map((x) => `${x.stream}:${x.text}`)).toEqual(['stdout:only stdout']);
  });

  it('captures many short children at once, each into its own log', async () => {
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => pumped(`echo out ${i}; echo err ${i} >&2`, 1e9)));
    results.forEach((r, i) => {
      const records = decodeLogText(r.main);
      expect(records.map((x) => `${x.stream}:${x.text}`).sort()).toEqual([`stderr:err ${i}`, `stdout:out ${i}`]);
    });
  });
});
