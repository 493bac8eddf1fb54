/**
 * The CLI's own state: `<home>/cli.json`, written only by the CLI. Holds the selected project
 * (`ce project select`); `default` when nothing is selected.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export const DEFAULT_PROJECT = 'default';

export interface CliConfig {
  /** Name of the selected project. */
  project?: string;
  /** Its id when it was selected (informational). */
  project_id?: string;
}

export const cliConfigFile = (home: string): string => path.join(home, 'cli.json');

/** Reads `<home>/cli.json`; `{}` when absent or unreadable. */
export async function readCliConfig(home: string): Promise<CliConfig> {
  try {
    const value = JSON.parse(await fs.readFile(cliConfigFile(home), 'utf8')) as unknown;
    return value && typeof value === 'object' ? (value as CliConfig) : {};
  } catch {
    return {};
  }
}

/** Writes `<home>/cli.json` atomically (temp file + rename), creating the home if needed. */
export async function writeCliConfig(home: string, config: CliConfig): Promise<void> {
  await fs.mkdir(home, { recursive: true });
  const file = cliConfigFile(home);
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await fs.rename(tmp, file);
}

/** The selected project's name (`default` when none). */
export async function selectedProject(home: string): Promise<string> {
  const config = await readCliConfig(home);
  return config.project && config.project.trim() !== '' ? config.project : DEFAULT_PROJECT;
}
