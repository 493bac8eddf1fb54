import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

const small = { scale_cpu_limit: '0.125', scale_memory_limit: '0.25G' };

describe('image pull credentials', () => {
  it('are resolved from the registry secret named by image_secret when an attempt starts', async () => {
    h = await makeHarness({ driver: { script: () => ({ runForMs: 1, exitCode: 0 }) } });
    const e = h.engine;
    e.createSecret('default', {
      name: 'reg',
      format: 'registry',
      data: { server: '127.0.0.1:5055', username: 'robot', password: 'pw-123', email: 'r@example.com' },
    });
    e.createJob('default', { name: 'img', image_reference: '127.0.0.1:5055/test/busybox:1', image_secret: 'reg', run_commands: ['x'], ...small });
    e.submitRun('default', { name: 'img-1', job_name: 'img' });
    await h.tick();
    await h.tick(1);
    expect(e.getRun('default', 'img-1').status).toBe('completed');
    expect(h.runtime.starts[0]).toMatchObject({
      image: '127.0.0.1:5055/test/busybox:1',
      imageSecret: 'reg',
      imagePullCredentials: { server: '127.0.0.1:5055', username: 'robot', password: 'pw-123', email: 'r@example.com' },
    });
  });

  it('fail the attempt with a message naming the secret when it is missing or not a registry secret', async () => {
    h = await makeHarness({ driver: { script: () => ({ runForMs: 1, exitCode: 0 }) } });
    const e = h.engine;
    e.createSecret('default', { name: 'plain', format: 'generic', data: { token: 'abc' } });
    e.submitRun('default', { name: 'a', image_reference: 'busybox', image_secret: 'gone', run_commands: ['x'], scale_retry_limit: 0, ...small });
    e.submitRun('default', { name: 'b', image_reference: 'busybox', image_secret: 'plain', run_commands: ['x'], scale_retry_limit: 0, ...small });
    await h.tick();
    const a = e.listInstances('default', 'a')[0]!;
    const b = e.listInstances('default', 'b')[0]!;
    expect(a).toMatchObject({ state: 'failed', last_failure_reason: 'StartFailed' });
    expect(a.message).toContain('secret "gone" was not found');
    expect(b).toMatchObject({ state: 'failed', last_failure_reason: 'StartFailed' });
    expect(b.message).toContain('image_secret "plain" is not a registry secret');
    expect(b.message).not.toContain('abc');
    expect(h.runtime.starts).toHaveLength(0);
  });
});
