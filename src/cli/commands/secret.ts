/**
 * `ce secret create|get|list|update|delete` (reference §1.12) in the selected project, with
 * `--format/--fo generic|registry|basic_auth|ssh|tls|hmac` (API formats `ssh_auth`, `hmac_auth`
 * for `ssh`, `hmac`; the API names are accepted too).
 *
 * Secret values are never written to stdout or stderr unless `get --decode` asks: the API
 * redacts them unless `?reveal=true`, which only `get --decode` and the internal read of
 * `update` (to merge) request, and everything printed goes through `redactSecret` otherwise.
 * Errors name flags, files, line numbers and keys, never values.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { ApiError } from '../../client/errors.js';
import type { ApiSecret, SecretFormat } from '../../client/types.js';
import { listDocument, printFormatted, type CliContext, type CommonOptions } from '../context.js';
import { addDataFlags, mergeData, readDataSources, readFlagFile, type DataSource } from '../data-flags.js';
import { UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { commonFlags, flag, quietFlag } from '../options.js';
import { confirm } from '../prompt.js';
import { promptSecret } from '../prompt-secret.js';
import { renderSecret, secretsTable, sortResources } from '../views.js';
import { action, deleteFlags, examples, isNotFound, projectOrUndefined, sortFlag, sortOf } from './util.js';

export const REDACTED = 'REDACTED';

/** CLI format names (and the API's) → API format. */
const FORMAT_NAMES: Record<string, SecretFormat> = {
  generic: 'generic',
  registry: 'registry',
  basic_auth: 'basic_auth',
  ssh: 'ssh_auth',
  ssh_auth: 'ssh_auth',
  tls: 'tls',
  hmac: 'hmac_auth',
  hmac_auth: 'hmac_auth',
};

export function parseSecretFormat(value: string): SecretFormat {
  const f = FORMAT_NAMES[value.trim().toLowerCase()];
  if (!f) throw new InvalidArgumentError('Use generic, registry, basic_auth, ssh, tls or hmac.');
  return f;
}

/** A copy of `secret` whose every value reads `REDACTED`. */
export function redactSecret(secret: ApiSecret): ApiSecret {
  const data: Record<string, string> = {};
  for (const k of Object.keys(secret.data ?? {})) data[k] = REDACTED;
  return { ...secret, data };
}

/** The format-specific flags: option attribute → the flag as typed. */
const FLAG_NAMES: Record<string, string> = {
  fromLiteral: '--from-literal',
  fromFile: '--from-file',
  fromEnvFile: '--from-env-file',
  rm: '--rm',
  server: '--server',
  username: '--username',
  password: '--password',
  passwordFromFile: '--password-from-file',
  email: '--email',
  keyPath: '--key-path',
  knownHostsPath: '--known-hosts-path',
  certChainFile: '--cert-chain-file',
  privateKeyFile: '--private-key-file',
  accessKeyId: '--access-key-id',
  secretAccessKey: '--secret-access-key',
};

/** Which flags each format takes. */
const FORMAT_FLAGS: Record<SecretFormat, readonly string[]> = {
  generic: ['fromLiteral', 'fromFile', 'fromEnvFile', 'rm'],
  registry: ['server', 'username', 'password', 'passwordFromFile', 'email'],
  basic_auth: ['username', 'password', 'passwordFromFile'],
  ssh_auth: ['keyPath', 'knownHostsPath'],
  tls: ['certChainFile', 'privateKeyFile'],
  hmac_auth: ['accessKeyId', 'secretAccessKey'],
};

const CLI_FORMAT: Record<SecretFormat, string> = {
  generic: 'generic',
  registry: 'registry',
  basic_auth: 'basic_auth',
  ssh_auth: 'ssh',
  tls: 'tls',
  hmac_auth: 'hmac',
};

interface SecretOptions extends CommonOptions {
  name: string;
  format?: SecretFormat;
  rm?: string[];
  server?: string;
  username?: string;
  password?: string;
  passwordFromFile?: string;
  email?: string;
  keyPath?: string;
  knownHostsPath?: string;
  certChainFile?: string;
  privateKeyFile?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** The format flags given on the command line (attribute names). */
function givenFlags(opts: SecretOptions): string[] {
  return Object.keys(FLAG_NAMES).filter((k) => (opts as unknown as Record<string, unknown>)[k] !== undefined);
}

/** Refuses flags that `format` does not take. */
function checkFlagsFit(format: SecretFormat, given: readonly string[], path: string): void {
  const foreign = given.filter((k) => !FORMAT_FLAGS[format].includes(k));
  if (foreign.length > 0) {
    const names = foreign.map((k) => FLAG_NAMES[k]).join(', ');
    throw new UsageError(`${names} cannot be used with a secret of format ${CLI_FORMAT[format]}.`, path);
  }
}

function secretFlags(cmd: Command, variant: 'create' | 'update'): () => DataSource[] {
  flag(cmd, '--format <format>', 'Format of the secret: generic, registry, basic_auth, ssh, tls or hmac', {
    aliases: ['--fo'],
    parse: parseSecretFormat,
    ...(variant === 'create' ? { shownDefault: 'generic' } : { defaultText: "the secret's; it cannot change" }),
  });
  const readSources = addDataFlags(cmd, 'secret (generic)', { rm: variant === 'update' });
  flag(cmd, '-s, --server <server>', 'Registry server (registry)', variant === 'create' ? { shownDefault: 'us.icr.io' } : {});
  flag(cmd, '-u, --username <username>', 'User name (registry, basic_auth)', variant === 'create' ? { defaultText: 'iamapikey for registry' } : {});
  flag(cmd, '--password <password>', 'Password (registry, basic_auth); asked for on a terminal when required and not given', { aliases: ['--pw'] });
  flag(cmd, '--password-from-file <file>', 'Read the password from the first line of a file (registry, basic_auth)', { aliases: ['--spf'] });
  flag(cmd, '--email <email>', 'E-mail address (registry)', { aliases: ['--em'] });
  flag(cmd, '--key-path <file>', 'Private SSH key file (ssh)', { aliases: ['--kp'] });
  flag(cmd, '--known-hosts-path <file>', 'known_hosts file (ssh)', { aliases: ['--khp'] });
  flag(cmd, '--cert-chain-file <file>', 'Certificate chain file, PEM (tls)', { aliases: ['--ccf'] });
  flag(cmd, '--private-key-file <file>', 'Private key file, PEM (tls)', { aliases: ['--pkf'] });
  flag(cmd, '--access-key-id <id>', 'HMAC access key ID (hmac)', { aliases: ['--akid'] });
  flag(cmd, '--secret-access-key <key>', 'HMAC secret access key (hmac); asked for on a terminal when required and not given', { aliases: ['--sak'] });
  return readSources;
}

async function firstLine(file: string, flagName: string, path: string): Promise<string> {
  const line = (await readFlagFile(file, flagName)).split('\n')[0]!.replace(/\r$/, '');
  if (line === '') throw new UsageError(`${flagName} ${file}: the first line is empty.`, path);
  return line;
}

/** The password of `--password`, `--password-from-file` or (required ones only) a prompt. */
async function password(io: CliIo, opts: SecretOptions, required: boolean, path: string): Promise<string | undefined> {
  if (opts.password !== undefined && opts.passwordFromFile !== undefined) {
    throw new UsageError("Use either '--password' or '--password-from-file', not both.", path);
  }
  if (opts.password !== undefined) {
    if (opts.password === '') throw new UsageError('--password: the password is empty.', path);
    return opts.password;
  }
  if (opts.passwordFromFile !== undefined) return firstLine(opts.passwordFromFile, '--password-from-file', path);
  if (!required) return undefined;
  return promptSecret(io, 'Password', '--password', path);
}

/**
 * The data the flags give for `format`. With `creating`, required fields must be given (a
 * password or secret access key is asked for on a terminal) and defaults apply; otherwise only
 * the fields given are returned (to merge into the current data).
 */
async function formatData(io: CliIo, format: SecretFormat, opts: SecretOptions, sources: readonly DataSource[], creating: boolean, path: string): Promise<Record<string, string>> {
  const need = (value: string | undefined, flagName: string): void => {
    if (creating && value === undefined) throw new UsageError(`Required option '${flagName}' not specified for a secret of format ${CLI_FORMAT[format]}.`, path);
  };
  const data: Record<string, string> = {};
  const set = (key: string, value: string | undefined): void => {
    if (value !== undefined) data[key] = value;
  };
  switch (format) {
    case 'generic':
      return readDataSources(sources, true);
    case 'registry':
      set('server', opts.server ?? (creating ? 'us.icr.io' : undefined));
      set('username', opts.username ?? (creating ? 'iamapikey' : undefined));
      set('password', await password(io, opts, creating, path));
      set('email', opts.email);
      return data;
    case 'basic_auth':
      need(opts.username, '--username');
      set('username', opts.username);
      set('password', await password(io, opts, creating, path));
      return data;
    case 'ssh_auth':
      need(opts.keyPath, '--key-path');
      if (opts.keyPath !== undefined) set('ssh_key', await readFlagFile(opts.keyPath, '--key-path'));
      if (opts.knownHostsPath !== undefined) set('known_hosts', await readFlagFile(opts.knownHostsPath, '--known-hosts-path'));
      return data;
    case 'tls':
      need(opts.certChainFile, '--cert-chain-file');
      need(opts.privateKeyFile, '--private-key-file');
      if (opts.certChainFile !== undefined) set('tls_cert', await readFlagFile(opts.certChainFile, '--cert-chain-file'));
      if (opts.privateKeyFile !== undefined) set('tls_key', await readFlagFile(opts.privateKeyFile, '--private-key-file'));
      return data;
    case 'hmac_auth':
      need(opts.accessKeyId, '--access-key-id');
      set('access_key_id', opts.accessKeyId);
      if (opts.secretAccessKey !== undefined) set('secret_access_key', opts.secretAccessKey);
      else if (creating) set('secret_access_key', await promptSecret(io, 'Secret access key', '--secret-access-key', path));
      return data;
  }
}

export function registerSecretCommands(program: Command, ctx: CliContext): void {
  const group = program.command('secret').description('Manage secrets (credentials for environment variables, mounts and registries)');

  // ---- create -------------------------------------------------------------------------------
  const create = group.command('create').description('Create a secret');
  flag(create, '-n, --name <name>', 'Name of the secret: lowercase letters, digits, - and ., at most 253 characters', { required: true });
  const readCreate = secretFlags(create, 'create');
  commonFlags(create);
  examples(create, [
    'ce secret create --name mysecret --from-literal USER=admin --from-literal PASSWORD=xyz',
    'ce secret create --name mysecret --from-env-file ./secrets.env',
    'ce secret create --name myregistry --format registry --server us.icr.io --username iamapikey --password-from-file ./apikey.txt',
    'ce secret create --name mybasic --format basic_auth --username user --password-from-file ./pw.txt',
    'ce secret create --name myssh --format ssh --key-path ~/.ssh/id_rsa --known-hosts-path ~/.ssh/known_hosts',
    'ce secret create --name mytls --format tls --cert-chain-file ./tls.crt --private-key-file ./tls.key',
    'ce secret create --name myhmac --format hmac --access-key-id ID --secret-access-key KEY',
  ]);
  action<SecretOptions>(ctx, create, async ({ out, opts, path }) => {
    const format = opts.format ?? 'generic';
    checkFlagsFit(format, givenFlags(opts), path);
    const sources = readCreate();
    if (format === 'generic' && sources.length === 0) {
      throw new UsageError("Give the data with at least one of '--from-literal', '--from-file' or '--from-env-file'.", path);
    }
    const data = await formatData(ctx.io, format, opts, sources, true, path);
    const client = await ctx.client();
    const project = await ctx.project();
    out.info(`Creating secret '${opts.name}'...`);
    const secret = await client.createSecret(project, { name: opts.name, format, data });
    if (opts.output) printFormatted(out, opts.output, redactSecret(secret));
    out.ok();
  });

  // ---- update -------------------------------------------------------------------------------
  const update = group.command('update').description("Update a secret: the format's flags replace their fields; generic secrets add or replace keys, --rm removes keys");
  flag(update, '-n, --name <name>', 'Name of the secret', { required: true });
  const readUpdate = secretFlags(update, 'update');
  commonFlags(update);
  examples(update, [
    'ce secret update --name mysecret --from-literal PASSWORD=new --rm OLD_KEY',
    'ce secret update --name myregistry --password-from-file ./apikey.txt',
  ]);
  action<SecretOptions>(ctx, update, async ({ out, opts, path }) => {
    const given = givenFlags(opts);
    if (given.length === 0) throw new UsageError("Nothing to update: give at least one of the format's flags (or '--rm').", path);
    if (opts.format) checkFlagsFit(opts.format, given, path);
    const sources = readUpdate();
    const client = await ctx.client();
    const project = await ctx.project();
    out.info(`Updating secret '${opts.name}'...`);
    let secret: ApiSecret | undefined;
    let adds: Record<string, string> | undefined;
    for (let attempt = 1; ; attempt++) {
      // revealed only to merge: the values are sent back, never printed
      const current = await client.getSecret(project, opts.name, { reveal: true });
      const format = current.secret.format;
      if (opts.format && opts.format !== format) {
        throw new UsageError(`Secret '${opts.name}' has format ${CLI_FORMAT[format]}; the format of a secret cannot change.`, path);
      }
      checkFlagsFit(format, given, path);
      adds ??= await formatData(ctx.io, format, opts, sources, false, path);
      const data = mergeData(current.secret.data ?? {}, opts.rm ?? [], adds, `secret '${opts.name}'`);
      try {
        secret = (await client.replaceSecret(project, opts.name, { format, data }, current.etag)).secret;
        break;
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 412 && attempt < 3)) throw e;
      }
    }
    if (opts.output) printFormatted(out, opts.output, redactSecret(secret));
    out.ok();
  });

  // ---- get ----------------------------------------------------------------------------------
  const get = group.command('get').description('Show a secret; its values read REDACTED unless --decode');
  flag(get, '-n, --name <name>', 'Name of the secret', { required: true });
  flag(get, '-d, --decode', 'Show the values in plain text');
  commonFlags(get);
  examples(get, ['ce secret get --name mysecret', 'ce secret get --name mysecret --decode', "ce secret get -n mysecret -o jsonpath='{.format}'"]);
  action<CommonOptions & { name: string; decode?: boolean }>(ctx, get, async ({ out, opts }) => {
    out.info(`Getting secret '${opts.name}'...`);
    const client = await ctx.client();
    const projectName = await ctx.project();
    const fetched = (await client.getSecret(projectName, opts.name, { reveal: opts.decode === true })).secret;
    const secret = opts.decode ? fetched : redactSecret(fetched);
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, secret);
    const project = await projectOrUndefined(client, projectName);
    out.info();
    for (const l of renderSecret(secret, project, ctx.now())) out.line(l);
  });

  // ---- list ---------------------------------------------------------------------------------
  const list = group.command('list').description('List the secrets of the selected project');
  flag(list, '--format <format>', 'Only secrets of this format: generic, registry, basic_auth, ssh, tls or hmac', { aliases: ['--fo'], parse: parseSecretFormat });
  sortFlag(list);
  commonFlags(list);
  examples(list, ['ce secret list', 'ce secret list --format registry', "ce secret list -o jsonpath='{.items[*].name}'"]);
  action<CommonOptions & { sortBy?: string; format?: SecretFormat }>(ctx, list, async ({ out, opts }) => {
    out.info('Listing secrets...');
    const client = await ctx.client();
    const all = await client.listAllSecrets(await ctx.project(), opts.format ? { format: opts.format } : {});
    const items = sortResources(all, sortOf(opts)).map(redactSecret);
    out.ok();
    if (opts.output) return printFormatted(out, opts.output, listDocument(items));
    out.info();
    if (items.length === 0) return out.line('No secrets were found.');
    for (const l of secretsTable(items, ctx.now())) out.line(l);
  });

  // ---- delete -------------------------------------------------------------------------------
  const del = group.command('delete').description('Delete a secret');
  flag(del, '-n, --name <name>', 'Name of the secret', { required: true });
  deleteFlags(del);
  quietFlag(del);
  examples(del, ['ce secret delete --name mysecret', 'ce secret delete -n mysecret -f']);
  action<CommonOptions & { name: string; force?: boolean; ignoreNotFound?: boolean }>(ctx, del, async ({ out, opts, path }) => {
    if (!(await confirm(ctx.io, `Are you sure you want to delete secret ${opts.name}?`, { force: Boolean(opts.force), command: path }))) {
      out.info('Not deleted.');
      return;
    }
    out.info(`Deleting secret '${opts.name}'...`);
    const client = await ctx.client();
    try {
      await client.deleteSecret(await ctx.project(), opts.name);
    } catch (e) {
      if (!(opts.ignoreNotFound && isNotFound(e))) throw e;
      out.info(`Secret '${opts.name}' was not found.`);
    }
    out.ok();
  });
}
