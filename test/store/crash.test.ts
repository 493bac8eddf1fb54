/**
 * Crash safety of the store's SQLite settings: a process SIGKILLed at an arbitrary point while it
 * commits transactions loses no transaction it reported as committed, never leaves half of a
 * transaction behind, and never corrupts the file (SPEC, src/store/database.ts).
 *
 * A child Node process opens a WAL database with the pragmas of `openDatabase` and commits, in a
 * loop, one transaction of ROWS rows per sequence number, printing the number after each commit.
 * The parent SIGKILLs it after a random number of commits (the child keeps committing while the
 * parent reads, so the kill lands anywhere), then checks the file. Five rounds on one file.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROWS = 25;
const ROUNDS = 5;
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const CHILD = `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(path.join(REPO_ROOT, 'package.json'))});
const Database = require('better-sqlite3');
const [file, rowsText] = process.argv.slice(2);
const rows = Number(rowsText);
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
db.exec('CREATE TABLE IF NOT EXISTS commits (seq INTEGER NOT NULL, k INTEGER NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (seq, k))');
const insert = db.prepare('INSERT INTO commits (seq, k, payload) VALUES (?, ?, ?)');
const commit = db.transaction((seq) => {
  for (let k = 0; k < rows; k++) insert.run(seq, k, 'x'.repeat(50 + ((seq * 31 + k * 17) % 400)));
});
let seq = (db.prepare('SELECT COALESCE(MAX(seq), 0) AS m FROM commits').get().m) + 1;
process.stdout.write('ready ' + seq + '\\n');
for (;;) {
  commit(seq);
  process.stdout.write(seq + '\\n');
  seq++;
}
`;

interface Round {
  firstSeq: number;
  reported: number[];
  signal: NodeJS.Signals | null;
}

/** Runs the child until it reported `commits` commits, then SIGKILLs it. */
function runAndKill(script: string, file: string, commits: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, file, String(ROWS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const reported: number[] = [];
    let firstSeq = -1;
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = readline.createInterface({ input: child.stdout });
    // Lines that arrive after the kill was sent were written before it landed: they count too.
    lines.on('line', (line) => {
      if (line.startsWith('ready ')) {
        firstSeq = Number(line.slice(6));
        return;
      }
      reported.push(Number(line));
      if (!killed && reported.length >= commits) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    // 'close' comes after the process ended and its output was read to the end.
    child.on('close', (code, signal) => {
      if (!killed) reject(new Error(`child ended on its own (code ${code}, signal ${signal}) after ${reported.length} commits: ${stderr}`));
      else resolve({ firstSeq, reported, signal });
    });
  });
}

describe('store durability under SIGKILL (WAL, synchronous=NORMAL)', () => {
  let dir: string;
  let script: string;
  let file: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-crash-'));
    script = path.join(dir, 'writer.mjs');
    file = path.join(dir, 'crash.db');
    fs.writeFileSync(script, CHILD);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it(
    'keeps every reported commit whole, no partial transaction and an intact file after each of five kills',
    async () => {
      let expectedNext = 1;
      const allReported: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const commits = 50 + Math.floor(Math.random() * 451); // 50..500
        const r = await runAndKill(script, file, commits);
        const where = `round ${round + 1} (killed after ${commits} reported commits)`;
        expect(r.signal, where).toBe('SIGKILL');
        // The child continues numbering after everything committed so far.
        expect(r.firstSeq, where).toBe(expectedNext);
        expect(r.reported.length, where).toBeGreaterThanOrEqual(commits);
        expect(r.reported, where).toEqual(Array.from({ length: r.reported.length }, (_v, i) => r.firstSeq + i));
        allReported.push(...r.reported);

        const db = new Database(file, { readonly: false });
        try {
          expect(db.pragma('integrity_check', { simple: true }), where).toBe('ok');
          expect(db.pragma('journal_mode', { simple: true }), where).toBe('wal');
          const groups = db.prepare('SELECT seq, COUNT(*) AS n, MIN(k) AS lo, MAX(k) AS hi FROM commits GROUP BY seq ORDER BY seq').all() as {
            seq: number;
            n: number;
            lo: number;
            hi: number;
          }[];
          // No partial transaction: every seq present has exactly ROWS rows, keys 0..ROWS-1.
          const partial = groups.filter((g) => g.n !== ROWS || g.lo !== 0 || g.hi !== ROWS - 1);
          expect(partial, where).toEqual([]);
          // Every commit the child reported is there (a commit not yet reported may be there too).
          const present = new Set(groups.map((g) => g.seq));
          const lost = allReported.filter((s) => !present.has(s));
          expect(lost, where).toEqual([]);
          // Commits are sequential, so what is present is exactly 1..max, no gaps.
          const max = groups.length ? groups[groups.length - 1]!.seq : 0;
          expect(groups.length, where).toBe(max);
          expect(max, where).toBeGreaterThanOrEqual(allReported[allReported.length - 1]!);
          expect(max - allReported[allReported.length - 1]!, where).toBeLessThanOrEqual(1);
          expectedNext = max + 1;
        } finally {
          db.close();
        }
      }
    },
    180_000,
  );
});
