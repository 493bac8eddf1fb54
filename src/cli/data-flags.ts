/**
 * The data flags of `configmap create|update` and `secret create|update --format generic`
 * (reference §1.11, §1.12): `--from-literal/-l KEY=VALUE`, `--from-file/-f FILE` (key = the
 * file's base name) or `KEY=FILE`, `--from-env-file/-e FILE` (`KEY=VALUE` lines; blank lines and
 * `#` comments ignored). All repeatable and combinable; applied in command-line order, a later
 * key replacing an earlier one. Also `--rm KEY` of update, and the merge of update.
 *
 * Values are checked when the action runs, not by commander's parsers, so that no error message
 * ever quotes a value (commander's quotes the argument): with `secret` set they name the flag,
 * the file and the line, never the text.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from './errors.js';
import { flag } from './options.js';

/** One data flag as given. */
export interface DataSource {
  flag: '--from-literal' | '--from-file' | '--from-env-file';
  value: string;
}

/** A data key: `[-._a-zA-Z0-9]+`, at most 253 characters (the API's rule). */
export const DATA_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

/**
 * Adds the data flags to `cmd`; returns a reader of the given sources in command-line order.
 * `what` is `configmap` or `secret` (help text only).
 */
export function addDataFlags(cmd: Command, what: string, options: { rm?: boolean } = {}): () => DataSource[] {
  const sources: DataSource[] = [];
  const collect = (f: DataSource['flag']) => (value: string) => {
    sources.push({ flag: f, value });
    return value;
  };
  flag(cmd, '-l, --from-literal <KEY=VALUE>', `A key and its value; repeatable`, { repeatable: true, parse: collect('--from-literal') });
  flag(cmd, '-f, --from-file <FILE|KEY=FILE>', `A file whose content is the value of KEY (default: the file's base name); repeatable`, {
    repeatable: true,
    parse: collect('--from-file'),
  });
  flag(cmd, '-e, --from-env-file <FILE>', `A file of KEY=VALUE lines (blank lines and # comments ignored); repeatable`, {
    repeatable: true,
    parse: collect('--from-env-file'),
  });
  if (options.rm) flag(cmd, '--rm <KEY>', `Remove a key from the ${what}; repeatable`, { repeatable: true });
  return () => [...sources];
}

function checkKey(key: string, where: string, secret: boolean): void {
  if (DATA_KEY.test(key)) return;
  const shown = secret ? 'a key' : `key '${key}'`;
  throw new UsageError(`${where}: ${shown} is not valid. Keys are 1-253 characters of letters, digits, '-', '_' and '.'.`);
}

async function readText(file: string, flagName: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    throw new UsageError(`${flagName} ${file}: cannot read the file (${why}).`);
  }
}

/** Reads a file given to a flag (whole content); a usage error naming the flag and file if it cannot. */
export const readFlagFile = readText;

/**
 * Parses an env file's text: `KEY=VALUE` lines (the value is everything after the first `=`,
 * kept as is; `\r` line ends tolerated), blank lines and lines starting with `#` ignored.
 * A malformed line is a usage error naming the file and the line number (not its text).
 */
export function parseEnvFile(text: string, file: string, secret: boolean): [string, string][] {
  const out: [string, string][] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const body = line.replace(/^\s+/, '');
    const eq = body.indexOf('=');
    const where = `--from-env-file ${file}, line ${i + 1}`;
    if (eq <= 0) throw new UsageError(`${where}: expected KEY=VALUE.`);
    const key = body.slice(0, eq).trim();
    checkKey(key, where, secret);
    out.push([key, body.slice(eq + 1)]);
  }
  return out;
}

/**
 * The data the sources give, in order (a later key wins). `secret` keeps values and lines out
 * of error messages.
 */
export async function readDataSources(sources: readonly DataSource[], secret: boolean): Promise<Record<string, string>> {
  const data: Record<string, string> = {};
  for (const s of sources) {
    if (s.flag === '--from-literal') {
      const eq = s.value.indexOf('=');
      if (eq <= 0) {
        throw new UsageError(secret ? '--from-literal: use KEY=VALUE (the value given is not shown).' : `--from-literal '${s.value}': use KEY=VALUE.`);
      }
      const key = s.value.slice(0, eq);
      checkKey(key, '--from-literal', secret);
      data[key] = s.value.slice(eq + 1);
    } else if (s.flag === '--from-file') {
      const eq = s.value.indexOf('=');
      const named = eq > 0 && DATA_KEY.test(s.value.slice(0, eq));
      const file = named ? s.value.slice(eq + 1) : s.value;
      if (file === '') throw new UsageError('--from-file: use FILE or KEY=FILE.');
      const key = named ? s.value.slice(0, eq) : path.basename(file);
      checkKey(key, `--from-file ${file}`, false);
      data[key] = await readText(file, '--from-file');
    } else {
      const text = await readText(s.value, '--from-env-file');
      for (const [k, v] of parseEnvFile(text, s.value, secret)) data[k] = v;
    }
  }
  return data;
}

/**
 * The data of an update: `current` minus the `--rm` keys (each must exist), plus `adds`.
 * A `--rm` of a key that is not there is a usage error naming it.
 */
export function mergeData(current: Readonly<Record<string, string>>, remove: readonly string[], adds: Readonly<Record<string, string>>, what: string): Record<string, string> {
  const data: Record<string, string> = { ...current };
  for (const key of remove) {
    if (!(key in data)) throw new UsageError(`--rm ${key}: the ${what} has no key '${key}'.`);
    delete data[key];
  }
  return { ...data, ...adds };
}
