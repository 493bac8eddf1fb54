/**
 * The engine-side input of the kubernetes driver's references: `buildInstanceSpec` reports,
 * next to the resolved `env`, where each referenced variable came from (`envSources`, the
 * precedence winner only) and the data of every referenced object (`configObjects`), so a
 * driver can refer to config maps and secrets instead of inlining values.
 */
import { describe, expect, it } from 'vitest';
import { withDefaults } from '../../../src/domain/defaults.js';
import { buildInstanceSpec } from '../../../src/engine/instance-spec.js';
import { StateLayout } from '../../../src/engine/layout.js';
import { compileSettings } from '../../../src/engine/settings.js';
import type { InstanceRow, ProjectRow, RunRow } from '../../../src/store/rows.js';

const DATA: Record<string, Record<string, string>> = {
  'config_map/app': { MODE: 'fast', LEVEL: 'debug' },
  'secret/db': { PASSWORD: 'pw', USER: 'admin' },
  'secret/reg': { server: 'icr.io', username: 'u', password: 'p' },
};

describe('buildInstanceSpec: env sources for referencing drivers', () => {
  it('reports the source of every referenced variable that won, and each object once', () => {
    const project = { id: 'p1', name: 'p', region: 'local', subdomain: 'sub', status: 'active', createdMs: 0 } as ProjectRow;
    const run = {
      seq: 1,
      id: '3f2c1a4e-8b9d-4c2e-9f1a-0123456789ab',
      projectId: 'p1',
      name: 'r',
      createdMs: 0,
      spec: withDefaults({
        image_reference: 'busybox',
        image_secret: 'reg',
        run_env_variables: [
          { type: 'config_map_full_reference', reference: 'app' },
          { type: 'secret_key_reference', name: 'MODE', reference: 'db', key: 'PASSWORD' },
          { type: 'literal', name: 'LEVEL', value: 'literal' },
        ],
        run_volume_mounts: [{ type: 'secret', reference: 'db', mount_path: '/etc/db' }],
      }),
      indexCount: 1,
      status: 'running',
      statusDetailsJson: '{}',
      deleting: false,
    } as RunRow;
    const instance = { runSeq: 1, index: 0, retry: 0, name: 'r-0-0', state: 'pending', attempt: 0, restarts: 0, failures: 0, cpuMillis: 1000, memoryBytes: 4e9 } as InstanceRow;
    let lookups = 0;
    const spec = buildInstanceSpec({
      project,
      run,
      instance,
      layout: new StateLayout('/tmp/cejobs-env-sources'),
      settings: compileSettings({}),
      resolve: (_p, kind, name) => {
        lookups++;
        return DATA[`${kind}/${name}`]!;
      },
    });
    expect(spec.env).toMatchObject({ MODE: 'pw', LEVEL: 'literal' });
    expect(spec.envSources).toEqual({ MODE: { source: 'secret', name: 'db', key: 'PASSWORD' } });
    expect(spec.configObjects).toEqual([
      { source: 'config_map', name: 'app', data: DATA['config_map/app'] },
      { source: 'secret', name: 'db', data: DATA['secret/db'] },
    ]);
    expect(spec.mounts).toEqual([{ mountPath: '/etc/db', source: 'secret', name: 'db', files: DATA['secret/db'] }]);
    // app, db (env and mount share one lookup) and the registry secret.
    expect(lookups).toBe(3);
  });
});
