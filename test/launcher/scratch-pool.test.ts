/**
 * Reused scratch directories (src/launcher/scratch-pool.ts) on real directories: what goes back
 * to the pool, what is removed instead, and what a restarted launcher takes in. How instances
 * see them through a real launcher is in test/drivers/process.scratch.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ScratchPool } from '../../src/launcher/scratch-pool.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-scratch-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let pools = 0;
const newPool = () => new ScratchPool(path.join(root, `p${pools++}`, 'scratch'));

/** Takes a directory and makes it where it is new, as the starter does. */
function takeMade(pool: ScratchPool): { dir: string; fresh: boolean } {
  const t = pool.take();
  if (t.fresh) fs.mkdirSync(t.dir, 0o777);
  return t;
}

describe('scratch pool', () => {
  it('hands out new directories, then the empty ones given back', () => {
    const pool = newPool();
    const a = takeMade(pool);
    const b = takeMade(pool);
    expect(a.fresh && b.fresh).toBe(true);
    expect(a.dir).not.toBe(b.dir);
    expect(pool.owns(a.dir)).toBe(true);
    expect(pool.owns(path.join(root, 'elsewhere', '0'))).toBe(false);
    pool.give(a.dir);
    expect(pool.size).toBe(1);
    expect(pool.take()).toEqual({ dir: a.dir, fresh: false });
    expect(fs.statSync(a.dir).isDirectory()).toBe(true);
  });

  it('removes, never pools, a directory left with files, another mode, or turned into a file', () => {
    const pool = newPool();
    const filled = takeMade(pool).dir;
    fs.mkdirSync(path.join(filled, 'sub'));
    fs.writeFileSync(path.join(filled, 'sub', 'f'), 'x');
    const opened = takeMade(pool).dir;
    fs.chmodSync(opened, 0o777);
    const closed = takeMade(pool).dir;
    fs.chmodSync(closed, 0o500);
    const replaced = takeMade(pool).dir;
    fs.rmdirSync(replaced);
    fs.writeFileSync(replaced, 'not a directory');
    const missing = pool.take().dir; // a start that failed before the starter made it
    for (const d of [filled, opened, closed, replaced, missing]) pool.give(d);
    expect(pool.size).toBe(0);
    for (const d of [filled, opened, closed, replaced, missing]) expect(fs.existsSync(d)).toBe(false);
    expect(pool.take().fresh).toBe(true);
  });

  it('a restarted launcher pools the empty leftovers, removes the others, keeps those in use, and names new ones past them', () => {
    const dir = path.join(root, `p${pools++}`, 'scratch');
    const before = new ScratchPool(dir);
    const [idle, busy, dirty] = [takeMade(before).dir, takeMade(before).dir, takeMade(before).dir];
    fs.writeFileSync(path.join(busy, 'state'), 'of a running attempt');
    fs.writeFileSync(path.join(dirty, 'left'), 'by an attempt released while no launcher ran');

    const after = new ScratchPool(dir);
    after.recover(new Set([busy]));
    expect(after.size).toBe(1);
    expect(fs.readFileSync(path.join(busy, 'state'), 'utf8')).toBe('of a running attempt');
    expect(fs.existsSync(dirty)).toBe(false);
    expect(after.take()).toEqual({ dir: idle, fresh: false });
    const next = after.take();
    expect(next.fresh).toBe(true);
    expect([idle, busy, dirty]).not.toContain(next.dir);
    expect(Number(path.basename(next.dir))).toBeGreaterThan(Math.max(...[idle, busy, dirty].map((d) => Number(path.basename(d)))));
  });
});
