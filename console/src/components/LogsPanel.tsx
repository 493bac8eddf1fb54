/**
 * Logs of one instance or of all, recorded so far or followed live (`client.followLogs`, NDJSON
 * over fetch with the bearer token). Lines are appended in batches (one render per 100 ms), the
 * view keeps the last 5,000, and it sticks to the bottom unless the reader scrolled up.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { LogRecord } from '../../../src/client/index.js';
import { useApp } from '../lib/app-context.js';
import { ErrorBanner } from './ErrorBanner.js';

const MAX_LINES = 5000;
interface Line extends LogRecord {
  instance: string;
}

export function LogsPanel(props: { run: string; instances: string[]; instance: string; onInstance: (name: string) => void; active: boolean }) {
  const { client, project } = useApp();
  const [followChoice, setFollow] = useState<boolean | null>(null);
  const follow = followChoice ?? props.active; // follows a live run unless the reader chose otherwise
  const [lines, setLines] = useState<Line[]>([]);
  const [state, setState] = useState<'loading' | 'following' | 'done'>('loading');
  const [error, setError] = useState<unknown>();
  const [reload, setReload] = useState(0);
  const box = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  const selectId = useId();

  useEffect(() => {
    const ac = new AbortController();
    let buffer: Line[] = [];
    let timer = 0;
    const flush = () => {
      timer = 0;
      const add = buffer;
      buffer = [];
      setLines((old) => {
        const next = old.concat(add);
        return next.length > MAX_LINES ? next.slice(next.length - MAX_LINES) : next;
      });
    };
    const push = (l: Line) => {
      buffer.push(l);
      if (!timer) timer = window.setTimeout(flush, 100);
    };
    setLines([]);
    setError(undefined);
    setState('loading');
    const opts = props.instance ? { instance: props.instance } : {};
    (async () => {
      try {
        if (follow) {
          setState('following');
          for await (const r of client.followLogs(project, props.run, { ...opts, signal: ac.signal })) push(r);
        } else {
          const res = await client.getLogs(project, props.run, opts);
          const all: Line[] = [];
          for (const il of res.logs) for (const r of il.records) all.push({ ...r, instance: il.instance });
          if (!props.instance) all.sort((a, b) => a.time.localeCompare(b.time));
          for (const l of all) push(l);
        }
        if (!ac.signal.aborted) setState('done');
      } catch (e) {
        if (!ac.signal.aborted) {
          setError(e);
          setState('done');
        }
      }
    })();
    return () => {
      ac.abort();
      if (timer) clearTimeout(timer);
    };
  }, [client, project, props.run, props.instance, follow, reload]);

  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return (
    <div className="logs">
      <div className="logs-bar">
        <label htmlFor={selectId}>Instance</label>
        <select id={selectId} value={props.instance} onChange={(e) => props.onInstance(e.target.value)}>
          <option value="">All instances</option>
          {props.instances.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <button type="button" className="small" onClick={() => setReload((n) => n + 1)}>
          Reload
        </button>
        <span className="muted small" role="status">
          {state === 'loading' ? 'loading…' : state === 'following' ? 'following…' : `${lines.length} line(s)`}
        </span>
      </div>
      <ErrorBanner error={error} title="Could not read the logs" />
      <pre
        ref={box}
        className="log-view"
        tabIndex={0}
        aria-label="Log output"
        data-testid="log-view"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {lines.length === 0 && state !== 'loading' ? <span className="muted">No log lines{props.instance ? ` for ${props.instance}` : ''}.</span> : null}
        {lines.map((l, i) => (
          <div key={i} className={`ll ${l.stream}`}>
            {!props.instance ? <span className="li">{l.instance} </span> : null}
            {l.text}
          </div>
        ))}
      </pre>
    </div>
  );
}
