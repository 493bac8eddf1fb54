/**
 * The launcher's journal of attempts (src/launcher/records.ts) on real files: what a restarted
 * launcher reads back, torn lines, the rewrite that keeps it small, and the files of launchers
 * from before the journal.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AttemptExit } from '../../src/drivers/driver.js';
import { AttemptJournal, type AttemptIndexEntry } from '../../src/launcher/records.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-journal-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => {
  const d = path.join(root, `l${dirs++}`);
  fs.mkdirSync(d);
  return d;
};

const entry = (id: string, pid = 100): AttemptIndexEntry => ({
  attemptId: id, workDir: path.join(root, 'work', id), logPath: path.join(root, 'logs', id), scratch: path.join(root, 'scratch', id),
  pid, pgid: pid, procStart: '12345', startedAt: 1, cgroup: null, mountsDir: null, memoryLimitBytes: 1, storageLimitBytes: 1,
});
const exit = (id: string, code: number): AttemptExit => ({ attemptId: id, outcome: { kind: 'exited', exitCode: code, signal: null }, finishedAt: 2, startedAt: 1 });
const lineCount = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length;

describe('attempt journal', () => {
  it('gives a restarted launcher the attempts not released, with their exits', () => {
    const dir = freshDir();
    const j = new AttemptJournal(dir);
    j.started(entry('a'));
    j.started(entry('b'));
    j.started(entry('c'));
    j.exited(exit('a', 0));
    j.exited(exit('c', 3));
    j.released('c');
    j.close();
    const back = new AttemptJournal(dir).recover();
    expect(back.map((h) => [h.entry.attemptId, h.exit?.outcome ?? null])).toEqual([
      ['a', { kind: 'exited', exitCode: 0, signal: null }],
      ['b', null],
    ]);
  });

  it('reads a line torn by a crash as never written, and the next record still reads', () => {
    const dir = freshDir();
    const j = new AttemptJournal(dir);
    j.started(entry('a'));
    j.close();
    fs.appendFileSync(path.join(dir, 'journal'), '{"x":{"attemptId":"a","outc'); // the crash
    const again = new AttemptJournal(dir);
    again.started(entry('b'));
    again.close();
    const back = new AttemptJournal(dir).recover();
    expect(back.map((h) => [h.entry.attemptId, h.exit])).toEqual([['a', null], ['b', null]]);
  });

  it('rewrites itself with the live attempts once released ones make up most of it', () => {
    const dir = freshDir();
    const j = new AttemptJournal(dir);
    j.started(entry('daemon'));
    for (let i = 0; i < 3000; i++) {
      j.started(entry(`t${i}`));
      j.exited(exit(`t${i}`, 0));
      j.released(`t${i}`);
    }
    j.close();
    expect(lineCount(path.join(dir, 'journal'))).toBeLessThan(4096 + 10);
    const back = new AttemptJournal(dir).recover();
    expect(back.map((h) => h.entry.attemptId)).toEqual(['daemon']);
    expect(lineCount(path.join(dir, 'journal'))).toBe(1); // recovery rewrites it too
  });

  it('takes over the index files and exit records of a launcher from before the journal', () => {
    const dir = freshDir();
    const old = entry('old');
    fs.mkdirSync(path.join(dir, 'attempts'));
    fs.mkdirSync(old.workDir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'attempts', 'old.json'), JSON.stringify(old));
    fs.writeFileSync(path.join(old.workDir, 'exit-old.json'), JSON.stringify(exit('old', 7)));
    const back = new AttemptJournal(dir).recover();
    expect(back).toEqual([{ entry: old, exit: exit('old', 7) }]);
    expect(fs.existsSync(path.join(dir, 'attempts'))).toBe(false);
    expect(fs.existsSync(path.join(old.workDir, 'exit-old.json'))).toBe(false);
    expect(new AttemptJournal(dir).recover()).toEqual([{ entry: old, exit: exit('old', 7) }]); // now from the journal
  });
});
