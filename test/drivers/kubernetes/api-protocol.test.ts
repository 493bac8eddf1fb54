/**
 * Protocol test of the API facade (`api.ts`, i.e. the real @kubernetes/client-node calls)
 * against an in-process HTTP server: the paths, methods and bodies the driver sends (pod
 * create/read/delete with a grace period, create-or-replace and delete of ConfigMaps and Secrets,
 * namespace creation, pod logs with timestamps), and how error statuses come back. It checks
 * the wire, not a cluster (the conformance suite does that with KUBECONFIG).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeApi, statusOf, type KubeApi } from '../../../src/drivers/kubernetes/api.js';

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });

describe('kubernetes API facade (protocol test against a fake API server, not a cluster)', () => {
  const seen: Seen[] = [];
  const objects = new Map<string, unknown>();
  let server: http.Server;
  let api: KubeApi;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = raw ? (JSON.parse(raw) as unknown) : undefined;
        seen.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), body });
        const json = (code: number, obj: unknown) => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(obj));
        };
        const p = url.pathname;
        if (p === '/version') return json(200, { gitVersion: 'v1.30.0-protocol-test' });
        if (p.endsWith('/log')) {
          res.writeHead(200, { 'content-type': 'text/plain' });
          return res.end('2024-05-02T10:00:04.000000001Z one\n2024-05-02T10:00:05Z two\n');
        }
        if (req.method === 'GET' && p === '/api/v1/namespaces/missing') return json(404, status(404, 'NotFound', 'namespaces "missing" not found'));
        if (req.method === 'POST' && p === '/api/v1/namespaces') return json(201, body);
        if (req.method === 'POST') {
          const name = (body as { metadata: { name: string } }).metadata.name;
          const key = `${p}/${name}`;
          if (objects.has(key)) return json(409, status(409, 'AlreadyExists', `"${name}" already exists`));
          objects.set(key, body);
          return json(201, { ...(body as object), metadata: { ...(body as { metadata: object }).metadata, resourceVersion: '7', uid: 'u1' } });
        }
        if (req.method === 'PUT') return json(200, body);
        if (req.method === 'GET' && objects.has(p)) return json(200, objects.get(p));
        if (req.method === 'GET' && p === '/api/v1/pods') return json(200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '9' }, items: [...objects.values()] });
        if (req.method === 'DELETE' && objects.has(p)) {
          objects.delete(p);
          return json(200, status(200, '', ''));
        }
        return json(404, status(404, 'NotFound', `${p} not found`));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'test-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    api = createKubeApi(kc);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const last = () => seen[seen.length - 1]!;

  it('version, pod create / read / find / delete with a grace period', async () => {
    expect(await api.serverVersion()).toBe('v1.30.0-protocol-test');
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'ns', labels: { 'cejobs.dev/attempt-id': 'a' } }, spec: { containers: [{ name: 'job', image: 'busybox' }] } };
    const created = await api.createPod(pod);
    expect(last()).toMatchObject({ method: 'POST', path: '/api/v1/namespaces/ns/pods', body: pod });
    expect(created.metadata?.resourceVersion).toBe('7');
    const again = await api.createPod(pod).catch((e: unknown) => e);
    expect(statusOf(again)).toBe(409);
    expect((await api.readPod('ns', 'p1'))?.metadata?.name).toBe('p1');
    expect(await api.readPod('ns', 'nope')).toBeUndefined();
    expect((await api.findPods('cejobs.dev/attempt-id=a')).map((p) => p.metadata?.name)).toEqual(['p1']);
    expect(last()).toMatchObject({ method: 'GET', path: '/api/v1/pods', query: { labelSelector: 'cejobs.dev/attempt-id=a' } });
    await api.deletePod('ns', 'p1', 8);
    expect(last()).toMatchObject({ method: 'DELETE', path: '/api/v1/namespaces/ns/pods/p1', query: { gracePeriodSeconds: '8' } });
    await api.deletePod('ns', 'p1', 0); // gone already: not an error
  });

  it('config maps and secrets: created, then replaced when they exist', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ce-cm-app', namespace: 'ns' }, data: { A: '1' } };
    await api.applyConfigMap(cm);
    expect(last()).toMatchObject({ method: 'POST', path: '/api/v1/namespaces/ns/configmaps', body: cm });
    await api.applyConfigMap({ ...cm, data: { A: '2' } });
    expect(seen.slice(-2).map((s) => `${s.method} ${s.path}`)).toEqual(['POST /api/v1/namespaces/ns/configmaps', 'PUT /api/v1/namespaces/ns/configmaps/ce-cm-app']);
    expect(last().body).toMatchObject({ data: { A: '2' } });
    const secret = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/dockerconfigjson', metadata: { name: 'ce-pull-reg', namespace: 'ns' }, data: { '.dockerconfigjson': 'e30=' } };
    await api.applySecret(secret);
    await api.applySecret(secret);
    expect(seen.slice(-2).map((s) => `${s.method} ${s.path}`)).toEqual(['POST /api/v1/namespaces/ns/secrets', 'PUT /api/v1/namespaces/ns/secrets/ce-pull-reg']);
    expect(last().body).toMatchObject({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'e30=' } });
    await api.deleteConfigMap('ns', 'ce-cm-app');
    expect(last()).toMatchObject({ method: 'DELETE', path: '/api/v1/namespaces/ns/configmaps/ce-cm-app' });
    await api.deleteSecret('ns', 'ce-pull-reg');
    expect(last()).toMatchObject({ method: 'DELETE', path: '/api/v1/namespaces/ns/secrets/ce-pull-reg' });
    await api.deleteSecret('ns', 'ce-pull-reg'); // gone already: not an error
    expect(last()).toMatchObject({ method: 'DELETE', path: '/api/v1/namespaces/ns/secrets/ce-pull-reg' });
  });

  it('a missing namespace is created, labelled managed-by cejobs', async () => {
    await api.ensureNamespace('missing');
    expect(seen.slice(-2).map((s) => `${s.method} ${s.path}`)).toEqual(['GET /api/v1/namespaces/missing', 'POST /api/v1/namespaces']);
    expect(last().body).toMatchObject({ metadata: { name: 'missing', labels: { 'app.kubernetes.io/managed-by': 'cejobs' } } });
  });

  it('pod logs: the complete log and a follow, with timestamps, for the container', async () => {
    expect(await api.readLog('ns', 'p1', 'job', { timestamps: true })).toBe('2024-05-02T10:00:04.000000001Z one\n2024-05-02T10:00:05Z two\n');
    expect(last()).toMatchObject({ method: 'GET', path: '/api/v1/namespaces/ns/pods/p1/log', query: { container: 'job', timestamps: 'true', follow: 'false' } });
    let text = '';
    const done = new Promise<void>((resolve) => {
      const sink = new Writable({
        write(chunk: Buffer, _e, cb) {
          text += chunk.toString();
          cb();
        },
        final(cb) {
          resolve();
          cb();
        },
      });
      void api.followLog('ns', 'p1', 'job', sink, { timestamps: true });
    });
    await done;
    expect(text).toContain('two');
    expect(last()).toMatchObject({ query: { container: 'job', timestamps: 'true', follow: 'true' } });
  });
});
