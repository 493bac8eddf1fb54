/** The signed-in layout: header (navigation, project, live status, sign-out) and the routed page. */
import { useEffect, useState } from 'react';
import { useApp } from '../lib/app-context.js';
import { ChangeHub, ChangeHubContext, type HubStatus } from '../lib/changes.js';
import { matchPath, navigate, useLocation } from '../lib/router.js';
import { ConfigMapsPage } from './ConfigMapsPage.js';
import { Empty } from './Empty.js';
import { JobPage } from './JobPage.js';
import { JobsPage } from './JobsPage.js';
import { Link } from './Link.js';
import { ProjectPicker } from './ProjectPicker.js';
import { RunPage } from './RunPage.js';
import { RunsPage } from './RunsPage.js';
import { SecretsPage } from './SecretsPage.js';

const NAV = [
  { to: '/jobs', label: 'Jobs' },
  { to: '/runs', label: 'Job runs' },
  { to: '/configmaps', label: 'Config maps' },
  { to: '/secrets', label: 'Secrets' },
];

function Page(props: { path: string }) {
  const { path } = props;
  let m: Record<string, string> | null;
  if (path === '/' || path === '') {
    navigate('/jobs', { replace: true });
    return null;
  }
  if (matchPath('/jobs', path)) return <JobsPage />;
  if ((m = matchPath('/jobs/:name', path))) return <JobPage key={m.name} name={m.name!} />;
  if (matchPath('/runs', path)) return <RunsPage />;
  if ((m = matchPath('/runs/:name', path))) return <RunPage key={m.name} name={m.name!} />;
  if (matchPath('/configmaps', path)) return <ConfigMapsPage />;
  if (matchPath('/secrets', path)) return <SecretsPage />;
  return (
    <Empty title="Page not found">
      <Link to="/jobs">Go to the jobs</Link>
    </Empty>
  );
}

export function Shell() {
  const { client, project, signOut } = useApp();
  const path = useLocation();
  const [hub, setHub] = useState<ChangeHub | null>(null);
  const [status, setStatus] = useState<HubStatus>('connecting');
  useEffect(() => {
    const h = new ChangeHub(client, project, () => signOut('Your session was refused by the server: sign in again.'));
    setHub(h);
    setStatus(h.status);
    const off = h.onStatus(setStatus);
    return () => {
      off();
      h.close();
    };
  }, [client, project, signOut]);
  const section = '/' + (path.split('/')[1] ?? '');
  return (
    <ChangeHubContext.Provider value={hub}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/jobs" className="brand">
          <span className="logo" aria-hidden="true" />
          cejobs
        </Link>
        <nav aria-label="Sections">
          {NAV.map((n) => (
            <Link key={n.to} to={n.to} className={section === n.to ? 'nav active' : 'nav'} aria-current={section === n.to ? 'page' : undefined}>
              {n.label}
            </Link>
          ))}
        </nav>
        <div className="top-right">
          <ProjectPicker />
          <span className={`live ${status}`} role="status" title="Change stream">
            {status === 'live' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Offline, retrying'}
          </span>
          <button type="button" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" className="page" tabIndex={-1}>
        <Page key={project} path={path} />
      </main>
    </ChangeHubContext.Provider>
  );
}
