// The part of tar-fs 2 that cejobs uses (the package ships no types).
declare module 'tar-fs' {
  import type { Readable, Writable } from 'node:stream';
  export interface PackOptions {
    /** Relative paths to pack, in order (instead of walking the directory). */
    entries?: string[];
    dereference?: boolean;
  }
  export interface ExtractOptions {
    /** Called per entry; true skips it. */
    ignore?: (name: string, header?: { type: string; name: string; linkname?: string }) => boolean;
    readable?: boolean;
    writable?: boolean;
  }
  export function pack(dir: string, options?: PackOptions): Readable;
  export function extract(dir: string, options?: ExtractOptions): Writable;
}
