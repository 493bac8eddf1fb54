/**
 * Builder helpers without a runtime: `.dockerignore` matching (Docker's rules) and the content
 * digest of a source tree (equal trees, equal digests; any change, another digest).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDockerignore } from '../../src/builders/dockerignore.js';
import { treeDigest, walkTree } from '../../src/builders/tree.js';
import { sourceEntries } from '../../src/client/source-archive.js';
import { writeTree } from './fixtures.js';

describe('.dockerignore', () => {
  it('matches names, globs, ** and directories, with ! exceptions and comments', () => {
    const ignored = parseDockerignore('# comment\nnode_modules\n*.log\n**/tmp\ndocs/*.md\n!docs/keep.md\n/build/\n');
    expect(ignored('node_modules/x/index.js')).toBe(true);
    expect(ignored('a.log')).toBe(true);
    expect(ignored('sub/a.log')).toBe(false); // * does not cross /
    expect(ignored('x/y/tmp/z')).toBe(true);
    expect(ignored('docs/a.md')).toBe(true);
    expect(ignored('docs/keep.md')).toBe(false);
    expect(ignored('build/out.bin')).toBe(true);
    expect(ignored('src/main.ts')).toBe(false);
  });
});

describe('tree digests', () => {
  it('is stable for equal content and changes with content, names, modes and the extra text', () => {
    const a = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-tree-a-'));
    const b = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-tree-b-'));
    writeTree(a, { 'x.txt': '1', 'run.sh': 'echo', 'd/y.txt': '2' });
    writeTree(b, { 'd/y.txt': '2', 'run.sh': 'echo', 'x.txt': '1' });
    const digest = (d: string, extra = '') => treeDigest(d, walkTree(d, () => false), extra);
    expect(digest(a)).toBe(digest(b));
    expect(digest(a, 'npm ci')).not.toBe(digest(a));
    fs.writeFileSync(path.join(b, 'x.txt'), '2');
    expect(digest(b)).not.toBe(digest(a));
    fs.writeFileSync(path.join(b, 'x.txt'), '1');
    fs.chmodSync(path.join(b, 'x.txt'), 0o755);
    expect(digest(b)).not.toBe(digest(a));
    for (const d of [a, b]) fs.rmSync(d, { recursive: true, force: true });
  });

  it('uploads skip .git directories', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-tree-c-'));
    writeTree(d, { '.git/HEAD': 'x', 'a/.git/config': 'y', 'a/b.txt': 'z' });
    expect(sourceEntries(d)).toEqual(['a', 'a/b.txt']);
    fs.rmSync(d, { recursive: true, force: true });
  });
});

describe('the cd wrapper for launchers that predate spec.cwd', () => {
  it('starts the same command in the snapshot directory', async () => {
    const { withCdWrapper } = await import('../../src/drivers/process/driver.js');
    const { execFileSync } = await import('node:child_process');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-cd-'));
    writeTree(dir, { 'run.sh': '#!/bin/sh\necho "in $(pwd) with $1"\n' });
    const spec = withCdWrapper({ cwd: dir, command: ['./run.sh'], args: ['arg1'] } as never) as { command: string[]; args: string[]; cwd?: string };
    expect(spec.cwd).toBeUndefined();
    const argv = [...spec.command, ...spec.args];
    expect(execFileSync(argv[0]!, argv.slice(1), { cwd: os.tmpdir(), encoding: 'utf8' })).toBe(`in ${dir} with arg1\n`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
