/**
 * The web console end to end: the built console served by a real server (process driver, a
 * temporary state home), driven in headless Chromium. Sign-in (wrong and right token), the
 * keyboard on dialogs, create a job, a 10-index run watched live to 9 succeeded + 1 failed,
 * logs of an instance, "rerun failed indices" (checked through the API), deletes, config maps
 * and secrets, and a 1,000-index grid. With CEJOBS_SCREENSHOTS=1 it also writes
 * docs/screenshots/*.png.
 */
/// <reference lib="dom" />
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CejobsClient, isApiError } from '../../src/client/index.js';
import { shutdownLauncher } from '../../src/drivers/process/driver.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { browserSkipReason, ensureConsoleBuilt, launchBrowser, SCREENSHOT_DIR, SCREENSHOTS } from './browser.js';

const skip = browserSkipReason();
if (skip) console.warn(`[test/console] ${skip}`);

const SCRIPT = 'sleep 1; echo "hello $JOB_INDEX of $JOB_ARRAY_SIZE"; if [ "$JOB_INDEX" = 7 ]; then echo "index 7 fails" >&2; exit 1; fi';

describe.skipIf(Boolean(skip))('web console in headless Chromium', () => {
  let home = '';
  let server: RunningServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let api: CejobsClient;
  let firstRun = '';
  let rerun = '';
  const pageErrors: string[] = [];

  const shot = async (name: string, options: { fullPage?: boolean } = {}) => {
    if (!SCREENSHOTS) return;
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.evaluate(() => {
      window.scrollTo(0, 0);
      document.querySelectorAll('dialog').forEach((d) => (d.scrollTop = 0));
    });
    await page.waitForTimeout(150); // let transitions settle
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: options.fullPage ?? false });
  };
  const text = async (testId: string) => (await page.getByTestId(testId).textContent())?.trim();

  beforeAll(async () => {
    ensureConsoleBuilt();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-console-'));
    server = await startServer({ home, driver: 'process', log: () => {}, process: { idleExitMs: 5000 } });
    api = new CejobsClient({ baseUrl: server.url, token: server.token });
    browser = await launchBrowser();
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 40[14]/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (home) {
      await shutdownLauncher(path.join(home, 'launcher'), { force: true }).catch(() => {});
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it('refuses a wrong token with the server message', async () => {
    await page.goto(`${server.url}/`);
    await page.getByLabel('API token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('a valid bearer token is required');
    expect(await page.evaluate(() => sessionStorage.getItem('cejobs.token'))).toBeNull();
  });

  it('signs in with the token (kept in sessionStorage) and shows the empty job list', async () => {
    await page.getByLabel('API token').fill(server.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await page.getByText('No jobs in this project yet').waitFor();
    expect(page.url()).toBe(`${server.url}/jobs`);
    expect(await page.evaluate(() => sessionStorage.getItem('cejobs.token'))).toBe(server.token);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await page.getByText('Live', { exact: true }).waitFor(); // the change stream is open
  });

  it('opens and closes the create dialog with the keyboard', async () => {
    const button = page.getByRole('button', { name: 'Create job' }).first();
    await button.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Create job' });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('id'))).toBe(await page.getByLabel('Name', { exact: true }).getAttribute('id'));
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Create job');
  });

  it('creates a job with the form', async () => {
    await page.getByRole('button', { name: 'Create job' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Create job' });
    await dialog.getByLabel('Name', { exact: true }).fill('hello');
    await dialog.getByLabel('Command', { exact: true }).fill('/bin/sh');
    await dialog.getByLabel('Arguments', { exact: true }).fill(`-c\n${SCRIPT}`);
    await dialog.getByLabel('CPU (vCPU)').selectOption('0.5');
    expect(await dialog.getByLabel('Memory', { exact: true }).locator('option').allTextContents()).toEqual(['1G', '2G', '4G']);
    await dialog.getByLabel('Memory', { exact: true }).selectOption('1G');
    await dialog.getByRole('button', { name: 'Add variable' }).click();
    await dialog.getByLabel('Variable 1 name').fill('GREETING');
    await dialog.getByLabel('Variable 1 value').fill('hi');
    // task-only fields disappear in daemon mode
    await dialog.getByRole('radio', { name: /Daemon/ }).check();
    expect(await dialog.getByLabel('Retries', { exact: true }).count()).toBe(0);
    await dialog.getByRole('radio', { name: /Task/ }).check();
    await dialog.getByLabel('Retries', { exact: true }).fill('2');
    await shot('job-create');
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'hello' }).waitFor();
    const { job } = await api.getJob('default', 'hello');
    expect(job).toMatchObject({
      run_commands: ['/bin/sh'],
      run_arguments: ['-c', SCRIPT],
      scale_cpu_limit: '0.5',
      scale_memory_limit: '1G',
      scale_retry_limit: 2,
      run_env_variables: [{ type: 'literal', name: 'GREETING', value: 'hi' }],
    });
  });

  it('submits a 10-index run (retries 0) and watches the grid reach 9 succeeded + 1 failed live', async () => {
    await page.getByRole('button', { name: 'Submit a run of hello' }).click();
    const dialog = page.getByRole('dialog', { name: 'Submit a run of hello' });
    await dialog.getByLabel('Instances', { exact: true }).fill('10');
    expect(await dialog.getByLabel('Array indices').inputValue()).toBe('0-9');
    await dialog.getByLabel('Retries', { exact: true }).fill('0');
    await dialog.getByRole('button', { name: 'Submit run' }).click();
    await page.waitForURL(/\/runs\/[^/]+$/);
    firstRun = decodeURIComponent(page.url().split('/').pop()!);
    await page.getByTestId('index-grid').waitFor();
    // record the grid's changes from now on, and mark the document to prove it is never reloaded
    await page.evaluate(() => {
      const w = window as unknown as { __marker: number; __classChanges: number };
      w.__marker = 1;
      w.__classChanges = 0;
      new MutationObserver((ms) => (w.__classChanges += ms.length)).observe(document.querySelector('[data-testid="index-grid"]')!, {
        subtree: true,
        attributes: true,
        attributeFilter: ['class'],
        childList: true,
      });
    });
    expect(await page.locator('[data-testid="index-grid"] .cell').count()).toBe(10);
    expect(await page.locator('[data-testid="index-grid"] .cell.s-succeeded').count()).toBeLessThan(9); // not finished yet: sleep 1
    await page.waitForFunction(
      () =>
        document.querySelectorAll('[data-testid="index-grid"] .cell.s-succeeded').length === 9 &&
        document.querySelectorAll('[data-testid="index-grid"] .cell.s-failed').length === 1,
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.locator('.cell.s-failed').getAttribute('data-i')).toBe('7');
    expect(await text('counter-succeeded')).toBe('9');
    expect(await text('counter-failed')).toBe('1');
    expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { __classChanges: number }).__classChanges)).toBeGreaterThan(0);
    await page.getByText('failed', { exact: true }).first().waitFor(); // the run's status badge
    const run = await api.getJobRun('default', firstRun);
    expect(run.status_details).toMatchObject({ succeeded: 9, failed: 1, failed_indices: '7' });
  });

  it('shows the logs of an instance', async () => {
    await page.getByRole('button', { name: `Logs of ${firstRun}-3-0` }).click();
    const view = page.getByTestId('log-view');
    await page.waitForFunction(() => document.querySelector('[data-testid="log-view"]')?.textContent?.includes('hello 3 of 10'));
    expect(await view.textContent()).not.toContain('hello 4 of 10');
    await page.getByLabel('Instance', { exact: true }).selectOption(`${firstRun}-7-0`);
    await page.waitForFunction(() => document.querySelector('[data-testid="log-view"]')?.textContent?.includes('index 7 fails'));
    await page.getByLabel('Instance', { exact: true }).selectOption('');
    await page.waitForFunction(() => /hello 0 of 10[\s\S]*hello 9 of 10/.test(document.querySelector('[data-testid="log-view"]')?.textContent ?? ''));
    await page.getByRole('row', { name: new RegExp(`${firstRun}-7-0`) }).getByText('exit code 1').or(page.getByRole('row', { name: new RegExp(`${firstRun}-7-0`) }).getByText('1', { exact: true })).first().waitFor();
    await shot('run', { fullPage: true });
  });

  it('reruns exactly the failed indices with the original JOB_ARRAY_SIZE', async () => {
    await page.getByRole('button', { name: 'Rerun failed indices' }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/runs/') && !u.pathname.endsWith(`/${firstRun}`));
    rerun = decodeURIComponent(page.url().split('/').pop()!);
    const run = await api.getJobRun('default', rerun);
    expect(run).toMatchObject({ job_name: 'hello', scale_array_spec: '7', scale_array_size_variable_override: 10, scale_retry_limit: 0, scale_cpu_limit: '0.5' });
    await page.waitForFunction(
      () =>
        document.querySelectorAll('[data-testid="index-grid"] .cell').length === 1 &&
        document.querySelector('[data-testid="index-grid"] .cell.s-failed')?.getAttribute('data-i') === '7',
      undefined,
      { timeout: 30_000 },
    );
    const logs = await api.getLogs('default', rerun);
    expect(logs.logs.map((l) => l.instance)).toEqual([`${rerun}-7-0`]);
    expect(logs.logs[0]!.records.map((r) => r.text)).toContain('hello 7 of 10');
  });

  it('deletes the run and the job after confirmation', async () => {
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: `Delete job run ${rerun}?` });
    await confirm.getByRole('button', { name: 'Delete run' }).click();
    await page.waitForURL(`${server.url}/jobs/hello`);
    await expect(api.getJobRun('default', rerun)).rejects.toMatchObject({ status: 404 });
    await page.getByRole('navigation').getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('button', { name: 'Delete hello' }).click();
    await page.getByRole('dialog', { name: 'Delete job hello?' }).getByRole('button', { name: 'Delete job' }).click();
    await page.getByText('No jobs in this project yet').waitFor();
    expect(await api.listAllJobs('default')).toEqual([]);
    await expect(api.getJobRun('default', firstRun)).rejects.toSatisfy((e) => isApiError(e) && e.status === 404);
  });

  it('manages config maps and secrets, with secret values hidden until revealed', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Config maps' }).click();
    await page.getByText('No config maps yet').waitFor();
    await page.getByRole('button', { name: 'Create config map' }).click();
    let dialog = page.getByRole('dialog', { name: 'Create config map' });
    await dialog.getByLabel('Name', { exact: true }).fill('app-settings');
    await dialog.getByLabel('Key 1', { exact: true }).fill('LOG_LEVEL');
    await dialog.getByLabel('Value 1', { exact: true }).fill('debug');
    await dialog.getByRole('button', { name: 'Add key' }).click();
    await dialog.getByLabel('Key 2', { exact: true }).fill('REGION');
    await dialog.getByLabel('Value 2', { exact: true }).fill('eu-de');
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('cell', { name: 'app-settings', exact: true }).waitFor();
    expect((await api.getConfigMap('default', 'app-settings')).configMap.data).toEqual({ LOG_LEVEL: 'debug', REGION: 'eu-de' });
    await shot('config-maps');

    await page.getByRole('navigation').getByRole('link', { name: 'Secrets' }).click();
    await page.getByRole('button', { name: 'Create secret' }).click();
    dialog = page.getByRole('dialog', { name: 'Create secret' });
    await dialog.getByLabel('Name', { exact: true }).fill('db-login');
    await dialog.getByLabel('Format').selectOption('basic_auth');
    expect(await dialog.getByLabel('Value 2', { exact: true }).getAttribute('type')).toBe('password');
    await dialog.getByLabel('Value 1', { exact: true }).fill('admin');
    await dialog.getByLabel('Value 2', { exact: true }).fill('s3cr3t-pw');
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('cell', { name: 'db-login', exact: true }).waitFor();
    expect(await page.content()).not.toContain('s3cr3t-pw');
    await page.getByRole('button', { name: 'Reveal values of db-login' }).click();
    await page.getByText('s3cr3t-pw').waitFor();
    await shot('secrets');
    await page.getByRole('button', { name: 'Hide values of db-login' }).click();
    await page.getByText('s3cr3t-pw').waitFor({ state: 'detached' });
  });

  it('renders a 1,000-index grid fast', async () => {
    const details: Record<string, { status: string; retries: number }> = {};
    const states = ['succeeded', 'succeeded', 'succeeded', 'running', 'pending', 'failed'];
    for (let i = 0; i < 1000; i++) details[String(i)] = { status: i < 700 ? (i % 97 === 13 ? 'failed' : 'succeeded') : states[i % states.length]!, retries: 0 };
    const now = new Date().toISOString();
    const big = {
      ...(await api.submitJobRun('default', { name: 'tiny', run_commands: ['/bin/true'] })),
      name: 'big-array',
      job_name: 'render',
      scale_array_spec: '0-999',
      status: 'running',
      status_details: { requested: 1000, pending: 0, running: 0, succeeded: 0, failed: 0, unknown: 0, start_time: now, indices_details: details },
    };
    for (const s of Object.values(details)) (big.status_details as unknown as Record<string, number>)[s.status]! += 1;
    await page.route('**/v2/projects/default/job_runs/big-array**', async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname.endsWith('/instances')) return route.fulfill({ json: { instances: [] } });
      if (url.pathname.endsWith('/events')) return route.fulfill({ json: { events: [] } });
      if (url.pathname.endsWith('/logs')) return route.fulfill({ contentType: 'application/x-ndjson', body: '' });
      return route.fulfill({ json: big });
    });
    const started = Date.now();
    await page.goto(`${server.url}/runs/big-array`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="index-grid"] .cell').length === 1000);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(5000);
    const renderMs = await page.evaluate(() => {
      const t = performance.now();
      const grid = document.querySelector('[data-testid="index-grid"]')!;
      grid.getBoundingClientRect();
      return performance.now() - t;
    });
    expect(renderMs).toBeLessThan(500);
    expect(await text('count-failed')).toBe(String(Object.values(details).filter((d) => d.status === 'failed').length));
    await shot('run-1000', { fullPage: false });
    await page.unroute('**/v2/projects/default/job_runs/big-array**');
  });

  it('shows the job list', async () => {
    for (const name of ['nightly-report', 'resize-images']) {
      await api.createJob('default', {
        name,
        run_commands: ['/bin/sh'],
        run_arguments: ['-c', name === 'nightly-report' ? 'echo report $JOB_INDEX' : 'echo resize $JOB_INDEX'],
        scale_array_spec: name === 'nightly-report' ? '0' : '0-99',
      });
    }
    await api.createJob('default', { name: 'queue-worker', run_mode: 'daemon', image_reference: 'icr.io/codeengine/worker:1', run_commands: ['/bin/sh'], run_arguments: ['-c', 'sleep 600'] }).catch(() => {});
    await api.submitJobRun('default', { job_name: 'nightly-report' });
    await page.goto(`${server.url}/jobs`);
    await page.getByRole('link', { name: 'resize-images' }).waitFor();
    expect(await page.getByRole('row').count()).toBeGreaterThanOrEqual(3);
    await shot('jobs');
  });
  it('is readable on a phone, and stays free of script and CSP errors', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/jobs`);
    await page.getByRole('link', { name: 'resize-images' }).waitFor();
    // no horizontal scrolling: the table turns into cards
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot('jobs-phone');
    await page.setViewportSize({ width: 1280, height: 860 });
    expect(pageErrors).toEqual([]);
  });
});
