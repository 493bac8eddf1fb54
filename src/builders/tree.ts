/**
 * Walking a source tree: the entries under a root (files, directories, symlinks) in a stable
 * order, minus what a filter skips, and the content digest of such a list.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface TreeEntry {
  /** Relative to the root, `/`-separated. */
  rel: string;
  type: 'file' | 'dir' | 'symlink';
  /** Permission bits. */
  mode: number;
}

/** `skip(rel, isDir)` → true leaves the entry (and, for a directory, everything under it) out. */
export function walkTree(root: string, skip: (rel: string, isDir: boolean) => boolean): TreeEntry[] {
  const out: TreeEntry[] = [];
  const visit = (dirRel: string) => {
    const names = fs.readdirSync(path.join(root, dirRel)).sort();
    for (const name of names) {
      const rel = dirRel === '' ? name : `${dirRel}/${name}`;
      const st = fs.lstatSync(path.join(root, rel));
      const isDir = st.isDirectory();
      if (skip(rel, isDir)) continue;
      if (isDir) {
        out.push({ rel, type: 'dir', mode: st.mode & 0o7777 });
        visit(rel);
      } else if (st.isSymbolicLink()) out.push({ rel, type: 'symlink', mode: 0o777 });
      else if (st.isFile()) out.push({ rel, type: 'file', mode: st.mode & 0o7777 });
      // sockets, fifos and devices are not source
    }
  };
  visit('');
  return out;
}

/**
 * `sha256:<hex>` of the entries' names, types, executable bits and contents (link targets for
 * symlinks), plus `extra` (e.g. the build command): equal trees give equal digests.
 */
export function treeDigest(root: string, entries: readonly TreeEntry[], extra = ''): string {
  const h = crypto.createHash('sha256');
  h.update(`cejobs-tree-v1\0${extra}\0`);
  for (const e of entries) {
    const abs = path.join(root, e.rel);
    h.update(`${e.type}\0${e.rel}\0${e.mode & 0o111 ? 'x' : '-'}\0`);
    if (e.type === 'file') h.update(crypto.createHash('sha256').update(fs.readFileSync(abs)).digest());
    else if (e.type === 'symlink') h.update(fs.readlinkSync(abs));
    h.update('\0');
  }
  return `sha256:${h.digest('hex')}`;
}

/** Copies the entries from `from` to `to` (which must not exist yet). */
export function copyEntries(from: string, to: string, entries: readonly TreeEntry[]): void {
  fs.mkdirSync(to, { recursive: true });
  for (const e of entries) {
    const src = path.join(from, e.rel);
    const dst = path.join(to, e.rel);
    if (e.type === 'dir') fs.mkdirSync(dst, { recursive: true, mode: e.mode | 0o700 });
    else if (e.type === 'symlink') fs.symlinkSync(fs.readlinkSync(src), dst);
    else {
      fs.copyFileSync(src, dst);
      fs.chmodSync(dst, e.mode);
    }
  }
}

/** Removes write permission everywhere under `dir` (symlinks untouched). */
export function makeReadOnly(dir: string): void {
  const visit = (p: string) => {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) visit(path.join(p, n));
    fs.chmodSync(p, st.mode & 0o7555);
  };
  visit(dir);
}

/** Gives write permission back to the owner under `dir`, so it can be removed. */
export function makeWritable(dir: string): void {
  const visit = (p: string) => {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) return;
    fs.chmodSync(p, (st.mode & 0o7777) | 0o200);
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) visit(path.join(p, n));
  };
  if (fs.existsSync(dir)) visit(dir);
}
