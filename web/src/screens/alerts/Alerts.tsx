import { useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router';
import { useClient, useMutation, type CombinedError } from 'urql';
import { graphql } from '../../gql';
import type { AlertRowFragment, RiskLevel } from '../../gql/graphql';
import { useApi } from '../../api/context';
import { AlertFeed } from './feed';
import { Badge, ErrorNotice, when } from '../../ui/ui';

graphql(`
  fragment AlertRow on Alert {
    id level status title message createdAt
    event { id status }
    user { id username }
    transaction { id amount currency }
  }
`);
const AlertsSince = graphql(`
  query AlertsSince($filter: AlertFilter, $first: Int, $after: String) {
    alerts(filter: $filter, first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { ...AlertRow } }
    }
  }
`);
const AlertRaised = graphql(`
  subscription AlertRaised($minLevel: RiskLevel) { alertRaised(minLevel: $minLevel) { ...AlertRow } }
`);
const HandleAlert = graphql(`
  mutation HandleAlert($id: ID!, $input: HandleAlertInput!) { handleAlert(id: $id, input: $input) { ...AlertRow } }
`);

const levels: RiskLevel[] = ['LOW', 'MEDIUM', 'HIGH'];
const rank = (l: string) => levels.indexOf(l as RiskLevel);

export function Alerts() {
  const client = useClient();
  const api = useApi();
  const [minLevel, setMinLevel] = useState<RiskLevel>('LOW');
  const [, redraw] = useState(0);
  const [live, setLive] = useState(false);
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<CombinedError | null>(null);
  const feed = useMemo(
    () =>
      new AlertFeed<AlertRowFragment>(async (from) => {
        const res = await client.query(AlertsSince, { filter: { from }, first: 100 }, { requestPolicy: 'network-only' }).toPromise();
        setLoadError(res.error ?? null);
        const page = res.data?.alerts.pageInfo;
        // The first read starts the "older" cursor; a catch-up never moves it.
        if (!from && page) setOlderCursor(page.hasNextPage ? page.endCursor ?? null : null);
        return res.data?.alerts.edges.map((e) => e.node) ?? [];
      }, () => redraw((n) => n + 1)),
    [client],
  );
  const [notice, setNotice] = useState<AlertRowFragment | null>(null);
  const [subError, setSubError] = useState<CombinedError | null>(null);

  useEffect(
    () => api.onConnected(() => {
      setLive(true);
      void feed.connected();
    }),
    [api, feed],
  );
  useEffect(() => api.ws.on('closed', () => setLive(false)), [api]);

  // The subscription asks for everything; the level filter is applied here so
  // changing it neither drops the socket nor loses alerts. Every event is
  // handled as it arrives (a hook's latest-value state could skip one).
  useEffect(() => {
    const { unsubscribe } = client.subscription(AlertRaised, { minLevel: 'LOW' }).subscribe((res) => {
      setSubError(res.error ?? null);
      const a = res.data?.alertRaised;
      if (!a) return;
      feed.received(a);
      if (a.level === 'HIGH') setNotice(a);
    });
    return unsubscribe;
  }, [client, feed]);

  async function loadOlder() {
    const res = await client.query(AlertsSince, { first: 100, after: olderCursor }, { requestPolicy: 'network-only' }).toPromise();
    setLoadError(res.error ?? null);
    if (!res.data) return;
    feed.older(res.data.alerts.edges.map((e) => e.node));
    const page = res.data.alerts.pageInfo;
    setOlderCursor(page.hasNextPage ? page.endCursor ?? null : null);
  }

  const [handled, handle] = useMutation(HandleAlert);
  async function act(id: string, action: 'ACKNOWLEDGE' | 'RESOLVE') {
    const res = await handle({ id, input: { action } });
    if (res.data) feed.update(res.data.handleAlert);
  }

  const shown = feed.alerts.filter((a) => rank(a.level) >= rank(minLevel));
  const unread = shown.filter((a) => feed.unread.has(a.id)).length;
  return (
    <section aria-labelledby="alerts-title">
      <div className="titlebar">
        <h1 id="alerts-title">Live alerts</h1>
        <span className={live ? 'live on' : 'live'} data-testid="feed-status">{live ? '● live' : '○ connecting'}</span>
        <span className="unread" data-testid="unread" aria-live="polite">{unread} unread</span>
        <label className="inline">Level at least{' '}
          <select value={minLevel} onChange={(e) => setMinLevel(e.target.value as RiskLevel)}>
            {levels.map((l) => <option key={l}>{l}</option>)}
          </select>
        </label>
        <button onClick={() => feed.markRead()} disabled={unread === 0}>Mark all read</button>
      </div>
      {notice && (
        <div className="high-notice" role="alert">
          <strong>HIGH alert:</strong> {notice.title}{' '}
          {notice.event && <Link to={`/cases/${notice.event.id}`}>Open case</Link>}{' '}
          <button onClick={() => setNotice(null)} aria-label="Dismiss notice">×</button>
        </div>
      )}
      <ErrorNotice error={subError ?? handled.error ?? loadError} />
      <table className="grid">
        <thead><tr><th>Raised</th><th>Level</th><th>Status</th><th>Alert</th><th>Customer</th><th>Amount</th><th>Actions</th></tr></thead>
        <tbody>
          {shown.map((a) => (
            <tr key={a.id} data-alert-id={a.id} data-tx-id={a.transaction?.id} className={feed.unread.has(a.id) ? 'unread-row' : undefined}
              onClick={() => feed.markRead(a.id)}>
              <td>{when(a.createdAt)}</td>
              <td><Badge value={a.level} /></td>
              <td><Badge value={a.status} /></td>
              <td>{a.event ? <Link to={`/cases/${a.event.id}`}>{a.title}</Link> : a.title}<div className="muted small">{a.message}</div></td>
              <td>{a.user?.username}</td>
              <td className="num">{a.transaction ? `${a.transaction.amount} ${a.transaction.currency}` : ''}</td>
              <td className="actions">
                {a.status === 'NEW' && <button onClick={() => void act(a.id, 'ACKNOWLEDGE')}>Acknowledge</button>}
                {(a.status === 'NEW' || a.status === 'ACKNOWLEDGED') && <button onClick={() => void act(a.id, 'RESOLVE')}>Resolve</button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown.length === 0 && <p className="muted">No alerts yet at this level.</p>}
      {olderCursor && <button onClick={() => void loadOlder()}>Load older alerts</button>}
    </section>
  );
}
