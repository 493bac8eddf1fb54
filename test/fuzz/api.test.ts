/**
 * Fuzzing every API route (from the OpenAPI document the app serves) with fast-check, through
 * `app.inject` on the real engine (fake driver): malformed bodies, wrong types, huge and unicode
 * strings, path-traversal names, duplicate keys in raw JSON text, bad query parameters, odd
 * headers. Every answer is a 2xx or a 4xx — with a JSON error body that names something — never
 * a 5xx, a crash or a hang; the heap stays flat across batches.
 *
 * Seeded: the seed is printed (replay: CEJOBS_FUZZ_SEED=<seed>); bounded for CI.
 */
import { BuildError, type Builder } from '../../src/builders/builder.js';
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstDuplicateKey } from '../../src/api/json.js';
import { makeApi, SMALL, type ApiHarness } from '../api/harness.js';

const SEED = Number(process.env.CEJOBS_FUZZ_SEED ?? Date.now() % 2 ** 31);
const BATCHES = 5;
const PER_BATCH = 1000;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Builds that run nothing (fuzzed bodies must never reach a shell or git). */
const inertBuilder: Builder = {
  strategy: 'source',
  build: async () => {
    throw new BuildError('BuildFailed', 'the fuzz builder builds nothing');
  },
  workDirOf: () => undefined,
  collect: async () => [],
};

let h: ApiHarness;
interface Op {
  method: string;
  path: string;
  query: string[];
  body: boolean;
}
let ops: Op[] = [];

beforeAll(async () => {
  // instances end at once, so a followed log ends
  h = await makeApi({ driver: { script: () => ({ runForMs: 0, exitCode: 0 }) }, builder: inertBuilder });
  await h.req({ method: 'POST', url: '/v2/projects/default/jobs', json: { name: 'j', run_commands: ['/x'], ...SMALL } });
  await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { job_name: 'j', name: 'r' } });
  await h.req({ method: 'POST', url: '/v2/projects/default/config_maps', json: { name: 'cm', data: { a: '1' } } });
  await h.req({ method: 'POST', url: '/v2/projects/default/secrets', json: { name: 's', format: 'generic', data: { a: '1' } } });
  await h.req({ method: 'POST', url: '/v2/projects/default/builds', json: { name: 'b', source_url: 'file:///nowhere' } });
  await h.req({ method: 'POST', url: '/v2/projects/default/build_runs', json: { build_name: 'b', name: 'br' } });
  await h.tick(10);
  const doc = (await h.req({ method: 'GET', url: '/v2/openapi.json' })).json() as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: unknown }>>;
  };
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      ops.push({
        method: method.toUpperCase(),
        path,
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        body: op.requestBody !== undefined,
      });
    }
  }
  expect(ops.length).toBeGreaterThanOrEqual(25);
});
afterAll(async () => h?.close());

const FIELDS = [
  'name', 'job_name', 'image_reference', 'image_secret', 'run_mode', 'run_commands', 'run_arguments', 'run_env_variables',
  'run_volume_mounts', 'run_as_user', 'run_service_account', 'scale_array_spec', 'scale_cpu_limit', 'scale_memory_limit',
  'scale_ephemeral_storage_limit', 'scale_max_execution_time', 'scale_retry_limit', 'scale_array_size_variable_override',
  'data', 'format', 'instance', 'tags', 'resource_group_id', 'id', '__proto__', 'constructor',
];
const HOSTILE = [
  '..', '.', '../../etc/passwd', '..%2f..%2fetc', '%2e%2e', 'a/../../b', '%00', 'a%00b', '%zz', '%', 'ü', '😀', 'default/../x',
  'x'.repeat(300), 'A', '-a-', 'a_b', ' ', '%20', 'con', 'nul', '~root', '$(touch /tmp/pwned)', ';rm -rf /', '\\..\\', '%5c',
];
const VALID: Record<string, string[]> = {
  project_id: ['default', 'nope'],
  job_name: ['j', 'missing'],
  job_run_name: ['r', 'missing'],
  config_map_name: ['cm', 'missing'],
  secret_name: ['s', 'missing'],
  build_name: ['b', 'missing'],
  build_run_name: ['br', 'missing'],
};

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...HOSTILE),
  fc.integer({ min: 0, max: 5 }).map((n) => 'a'.repeat(10 ** n)),
);
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom(1e308, -1, 0, 2 ** 64, -0, 0.5, true, null, [], {}, [null], ['a'.repeat(70_000)]) },
);
const objectBody = fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 12 })), value, { maxKeys: 8 });
const rawBody: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 4, arbitrary: objectBody.map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  // duplicate keys in raw JSON text
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...FIELDS), value, value).map(([k, a, b]) => `{"${k}":${JSON.stringify(a) ?? 'null'},"${k}":${JSON.stringify(b) ?? 'null'}}`) },
  { weight: 1, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom('{', '[', '{"a":}', '\u0000', 'null', '""', '{"__proto__":{"x":1}}', `{"a":${'['.repeat(2000)}`, '{}garbage') },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const contentType = fc.constantFrom(
  'application/json', 'application/json', 'application/merge-patch+json', 'application/json; charset=utf-8', 'text/plain',
  'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'application/json; charset=latin1',
);

interface Req {
  op: number;
  params: { value: string; encode: boolean }[];
  query: [string, string][];
  contentType: string;
  body: string | undefined;
  ifMatch: string | undefined;
}

const request: fc.Arbitrary<Req> = fc.record({
  op: fc.nat(1000),
  params: fc.array(
    fc.record({
      value: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('VALID') }, { weight: 2, arbitrary: text }),
      encode: fc.boolean(),
    }),
    { minLength: 2, maxLength: 2 },
  ),
  query: fc.array(
    fc.tuple(
      fc.oneof(fc.constantFrom('limit', 'start', 'version', 'job_name', 'instance', 'tail', 'follow', 'format', 'reveal', 'orphan_job_runs', 'job_run'), fc.string({ maxLength: 8 })),
      fc.oneof(text, fc.constantFrom('0', '-1', '101', '1e3', 'true', 'false', 'TRUE', '', '2024-01-01', '2024-13-45', 'NaN', '99999999999999999999')),
    ),
    { maxLength: 4 },
  ),
  contentType,
  body: rawBody,
  ifMatch: fc.option(fc.oneof(fc.constantFrom('*', '"x"', 'W/"1"', '', ','), text), { nil: undefined }),
});

function urlOf(op: Op, r: Req): string {
  let i = 0;
  let path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const p = r.params[i++ % r.params.length]!;
    let v = p.value === 'VALID' ? VALID[name]![i % VALID[name]!.length]! : p.value;
    // the change stream never ends for a project that exists: only bad or missing projects here
    if (op.path.endsWith('/changes') && (v === 'default' || v === 'VALID')) v = 'nope';
    return p.encode ? encodeURIComponent(v) : v.replace(/[#?]/g, '');
  });
  if (path.length > 8000) path = path.slice(0, 8000);
  const qs = r.query
    // a followed log of a live run streams until the run ends: only false / bad values
    .filter(([k, v]) => !(k === 'follow' && /^true$/i.test(v)))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return qs ? `${path}?${qs}` : path;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`hang: ${what}`)), ms))),
  ]);
}

async function send(r: Req): Promise<void> {
  const op = ops[r.op % ops.length]!;
  const url = urlOf(op, r);
  const headers: Record<string, string> = {};
  if (r.contentType) headers['content-type'] = r.contentType;
  if (r.ifMatch !== undefined) headers['if-match'] = r.ifMatch.replace(/[^\x20-\x7e]/g, '');
  const what = `${op.method} ${url.slice(0, 300)} ${JSON.stringify(r.body)?.slice(0, 300)}`;
  const res = await within(h.req({ method: op.method as 'GET', url, headers, payload: r.body }), 10_000, what);
  expect(res.statusCode, what).toBeLessThan(500);
  if (res.statusCode >= 400) {
    const body = res.json() as { errors: { code: string; message: string; target?: { name: string } }[]; status_code: number };
    expect(body.status_code, what).toBe(res.statusCode);
    expect(body.errors.length, what).toBeGreaterThan(0);
    for (const e of body.errors) {
      expect(typeof e.code, what).toBe('string');
      expect(e.message.length, what).toBeGreaterThan(0);
    }
  }
}

describe(`fuzzing every API route (seed ${SEED})`, () => {
  it('answers 2xx or 4xx with a JSON error, never 5xx or a hang; the heap stays flat', async () => {
    console.log(`api fuzz seed: ${SEED} (replay with CEJOBS_FUZZ_SEED=${SEED})`);
    const heaps: number[] = [];
    for (let b = 0; b < BATCHES; b++) {
      await fc.assert(fc.asyncProperty(request, send), { seed: SEED + b, numRuns: PER_BATCH, endOnFailure: true });
      await h.tick(10);
      gc();
      heaps.push(process.memoryUsage().heapUsed);
    }
    expect(h.internalErrors.map((e) => String(e.error))).toEqual([]);
    console.log(`heap after each batch (MB): ${heaps.map((x) => (x / 2 ** 20).toFixed(1)).join(', ')}`);
    // tolerant: no growth beyond 40 MB from the second batch to the last
    expect(heaps[heaps.length - 1]! - heaps[1]!).toBeLessThan(40 * 2 ** 20);
  }, 150_000);

  it('finds duplicate keys exactly: none in what JSON.stringify writes, the one added by hand', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.string({ unit: 'grapheme', maxLength: 8 }), (v, key) => {
        const text = JSON.stringify(v);
        expect(firstDuplicateKey(text)).toBeUndefined();
        const k = JSON.stringify(key);
        expect(firstDuplicateKey(`{${k}:${text},"x":[${text}],${k}:1}`)).toBe(key);
        expect(firstDuplicateKey(`[{${k}:${text}},{${k}:${text}}]`)).toBeUndefined();
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('refuses JSON with duplicate keys (a parser differential) as invalid_json naming body', async () => {
    const routes: [string, string][] = [
      ['POST', '/v2/projects/default/jobs'],
      ['POST', '/v2/projects/default/job_runs'],
      ['POST', '/v2/projects/default/config_maps'],
    ];
    for (const [method, url] of routes) {
      for (const raw of ['{"name":"a1","name":"b1"}', '{"name":"a2","data":{"k":"1","k":"2"}}', '{"name":"a3","x":[{"a":1,"a":2}]}']) {
        const r = await h.req({ method: method as 'POST', url, payload: raw, headers: { 'content-type': 'application/json' } });
        expect(r.statusCode, `${url} ${raw}`).toBe(400);
        expect(r.json().errors[0]).toMatchObject({ code: 'invalid_json', target: { type: 'field', name: 'body' } });
      }
    }
    // the same keys in different objects are fine
    const ok = await h.req({ method: 'POST', url: '/v2/projects/default/config_maps', payload: '{"name":"dup-ok","data":{"name":"x"}}', headers: { 'content-type': 'application/json' } });
    expect(ok.statusCode).toBe(201);
  });
});
