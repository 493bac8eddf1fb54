/**
 * Protocol test of the watch loop (`watch.ts` over `api.ts`, i.e. the real
 * @kubernetes/client-node code) against a small in-process HTTP server that speaks the
 * Kubernetes list/watch wire format: a PodList with a resourceVersion, then a watch answered
 * with chunked JSON lines, a `410 Gone` (as an ERROR event and as an HTTP status) to force a
 * re-list. It checks the loop, not a cluster: the conformance suite does that (KUBECONFIG).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeApi } from '../../../src/drivers/kubernetes/api.js';
import { PodWatch } from '../../../src/drivers/kubernetes/watch.js';
import { waitFor } from '../../conformance/driver-conformance.js';

function pod(name: string, rv: string, phase = 'Pending'): V1Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', resourceVersion: rv }, spec: { containers: [{ name: 'job', image: 'busybox' }] }, status: { phase } };
}

interface Step {
  /** Answers one request; returns true when it kept the response open. */
  (req: http.IncomingMessage, res: http.ServerResponse, url: URL): void;
}

/** A server that answers the n-th list and the n-th watch with the given steps. */
async function fakeApiServer(lists: Step[], watches: Step[]) {
  const seen: { kind: 'list' | 'watch'; resourceVersion: string | null; labelSelector: string | null }[] = [];
  const open = new Set<http.ServerResponse>();
  let l = 0;
  let w = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/version') return void res.end(JSON.stringify({ gitVersion: 'v1.30.0-protocol-test' }));
    if (url.pathname !== '/api/v1/namespaces/ns/pods') return void res.writeHead(404).end();
    const watch = url.searchParams.get('watch') === 'true';
    seen.push({ kind: watch ? 'watch' : 'list', resourceVersion: url.searchParams.get('resourceVersion'), labelSelector: url.searchParams.get('labelSelector') });
    const step = watch ? watches[w++] : lists[l++];
    if (!step) {
      // Nothing scripted: keep a watch open (as a quiet cluster does) until the test ends.
      res.writeHead(200, { 'content-type': 'application/json' });
      open.add(res);
      return;
    }
    step(req, res, url);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return {
    kc,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const listOf = (rv: string, items: V1Pod[]): Step => (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: rv }, items }));
};

/** A chunked watch stream: one JSON event per line, each in its own chunk; `end` closes it. */
const watchOf = (events: unknown[], end: boolean): Step => (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  let i = 0;
  const next = () => {
    if (i < events.length) {
      res.write(JSON.stringify(events[i++]) + '\n');
      setImmediate(next);
    } else if (end) res.end();
  };
  next();
};

const gone = { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 100 (250)', reason: 'Expired', code: 410 } };

describe('kubernetes watch loop (protocol test against a fake API server, not a cluster)', () => {
  let cleanup: (() => Promise<void>) | undefined;
  let watch: PodWatch | undefined;
  afterEach(async () => {
    watch?.close();
    await cleanup?.();
  });

  it('lists, watches from the list version, re-lists on a 410 ERROR event and continues from the new version', async () => {
    const srv = await fakeApiServer(
      [listOf('100', [pod('a', '90')]), listOf('250', [pod('a', '240', 'Running')])],
      [watchOf([{ type: 'ADDED', object: pod('b', '101') }, { type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '120' } } }, { type: 'MODIFIED', object: pod('a', '130', 'Running') }, gone], false)],
    );
    cleanup = srv.close;
    const syncs: string[][] = [];
    const events: string[] = [];
    watch = new PodWatch(createKubeApi(srv.kc), 'ns', 'cejobs.dev/owner=t', {
      onSync: (pods) => syncs.push(pods.map((p) => `${p.metadata!.name}@${p.metadata!.resourceVersion}`)),
      onPod: (type, p) => events.push(`${type} ${p.metadata!.name}@${p.metadata!.resourceVersion}`),
    }, { backoffMs: 1 });
    await watch.start();
    await waitFor('the re-list and the second watch', () => srv.seen.filter((s) => s.kind === 'watch').length >= 2);
    expect(events).toEqual(['ADDED b@101', 'MODIFIED a@130']);
    expect(syncs).toEqual([['a@90'], ['a@240']]);
    expect(srv.seen.map((s) => `${s.kind}:${s.resourceVersion ?? ''}`)).toEqual(['list:', 'watch:100', 'list:', 'watch:250']);
    expect(srv.seen.every((s) => s.labelSelector === 'cejobs.dev/owner=t')).toBe(true);
    expect(watch.lists).toBe(2);
  });

  it('re-lists when the watch request itself answers 410 Gone', async () => {
    const srv = await fakeApiServer([listOf('100', []), listOf('300', [pod('c', '299')])], [(_q, res) => void res.writeHead(410, { 'content-type': 'application/json' }).end(JSON.stringify(gone.object))]);
    cleanup = srv.close;
    const syncs: number[] = [];
    watch = new PodWatch(createKubeApi(srv.kc), 'ns', 's', { onSync: (p) => syncs.push(p.length), onPod: () => {} }, { backoffMs: 1 });
    await watch.start();
    await waitFor('the second watch', () => srv.seen.filter((s) => s.kind === 'watch').length >= 2);
    expect(srv.seen.map((s) => `${s.kind}:${s.resourceVersion ?? ''}`)).toEqual(['list:', 'watch:100', 'list:', 'watch:300']);
    expect(syncs).toEqual([0, 1]);
  });

  it('a watch that simply ends (server timeout) is resumed from the last seen version, without a list', async () => {
    const srv = await fakeApiServer([listOf('100', [])], [watchOf([{ type: 'ADDED', object: pod('d', '150') }], true)]);
    cleanup = srv.close;
    watch = new PodWatch(createKubeApi(srv.kc), 'ns', 's', { onSync: () => {}, onPod: () => {} }, { backoffMs: 1 });
    await watch.start();
    await waitFor('the resumed watch', () => srv.seen.filter((s) => s.kind === 'watch').length >= 2);
    expect(srv.seen.map((s) => `${s.kind}:${s.resourceVersion ?? ''}`)).toEqual(['list:', 'watch:100', 'watch:150']);
  });
});
