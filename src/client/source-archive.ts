/**
 * The tar of a local source directory that a client uploads for a `local` build
 * (`PUT .../builds/{name}/source`). `.git` directories stay behind; everything else goes, the
 * server decides what a build uses (`.dockerignore`, `node_modules` rules). Symlinks are kept
 * as links; the server drops those that point outside the tree.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tarFs from 'tar-fs';

/** Relative paths of the files, links and directories to pack (sorted, no `.git`). */
export function sourceEntries(dir: string): string[] {
  const out: string[] = [];
  const visit = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      if (name === '.git') continue;
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = fs.lstatSync(path.join(dir, r));
      if (st.isDirectory()) {
        out.push(r);
        visit(r);
      } else if (st.isFile() || st.isSymbolicLink()) out.push(r);
    }
  };
  visit('');
  return out;
}

/** A tar stream of `dir` for upload. Throws when `dir` is not a directory. */
export function packSource(dir: string): Readable {
  if (!fs.statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
  return tarFs.pack(dir, { entries: sourceEntries(dir) });
}
