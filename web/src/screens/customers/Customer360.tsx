import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { DeviceStatus, UserStatus } from '../../gql/graphql';
import { Badge, ErrorNotice, Loading, Pager, useCursor, when } from '../../ui/ui';

const Customer = graphql(`
  query Customer($id: ID!, $first: Int, $after: String) {
    user(id: $id) {
      id username email role status createdAt lastLoginAt
      lastLocation { city country }
      riskProfile { score level reasons { factor points detail } }
      devices { id fingerprint status firstSeenAt lastSeenAt }
      loginLogs(first: 20) { id success failureReason ipAddress userAgent createdAt location { city country } }
      transactions(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id amount currency merchantId occurredAt status detection { riskScore riskLevel decision } } }
      }
    }
  }
`);
const SetUserStatus = graphql(`
  mutation SetUserStatus($id: ID!, $status: UserStatus!, $reason: String) { updateUserStatus(id: $id, status: $status, reason: $reason) { id status } }
`);
const SetDeviceStatus = graphql(`
  mutation SetDeviceStatus($id: ID!, $status: DeviceStatus!, $reason: String) { setDeviceStatus(id: $id, status: $status, reason: $reason) { id status } }
`);

const place = (l?: { city?: string | null; country?: string | null } | null) => [l?.city, l?.country].filter(Boolean).join(', ') || '—';

export function Customer360({ admin }: { admin: boolean }) {
  const { id = '' } = useParams();
  const cursor = useCursor();
  const [res] = useQuery({ query: Customer, variables: { id, first: 20, after: cursor.after } });
  const [userSet, setUser] = useMutation(SetUserStatus);
  const [deviceSet, setDevice] = useMutation(SetDeviceStatus);
  const [reason, setReason] = useState('');
  const u = res.data?.user;
  if (res.fetching && !res.data) return <Loading when />;
  if (!u) return <><ErrorNotice error={res.error} />{!res.error && <p className="error" role="alert">Not found, or not yours to see.</p>}</>;
  const userTo = (status: UserStatus) => void setUser({ id: u.id, status, reason: reason || undefined });
  const deviceTo = (device: string, status: DeviceStatus) => void setDevice({ id: device, status, reason: reason || undefined });
  return (
    <article aria-labelledby="c360-title">
      <p><Link to="/users">← Customers</Link></p>
      <div className="titlebar">
        <h1 id="c360-title">{u.username}</h1>
        <Badge value={u.role} /> <Badge value={u.status} />
        <span>risk {u.riskProfile.score} <Badge value={u.riskProfile.level} /></span>
      </div>
      <section className="panel" aria-label="Account actions">
        <input aria-label="Reason for a status change" placeholder="Reason (recorded in the audit log)" value={reason} onChange={(e) => setReason(e.target.value)} size={40} />{' '}
        {admin ? (
          <span className="buttons inline">
            {u.status !== 'ACTIVE' && <button onClick={() => userTo('ACTIVE')}>Reactivate</button>}
            {u.status !== 'FROZEN' && <button onClick={() => userTo('FROZEN')}>Freeze</button>}
            {u.status !== 'DISABLED' && <button onClick={() => userTo('DISABLED')}>Disable</button>}
          </span>
        ) : <span className="muted">Account status is changed by administrators; device status by analysts.</span>}
        <ErrorNotice error={userSet.error ?? deviceSet.error} />
      </section>
      <div className="columns">
        <section className="panel">
          <h2>Account</h2>
          <dl className="facts">
            <dt>Email</dt><dd>{u.email || '—'}</dd>
            <dt>Since</dt><dd>{when(u.createdAt)}</dd>
            <dt>Last sign-in</dt><dd>{when(u.lastLoginAt)}</dd>
            <dt>Last place</dt><dd>{place(u.lastLocation)}</dd>
          </dl>
          <h2>Risk profile</h2>
          <ul>{u.riskProfile.reasons.map((r) => <li key={r.factor}>+{r.points} {r.detail}</li>)}</ul>
        </section>
        <section className="panel">
          <h2>Devices</h2>
          <table className="grid compact" data-testid="customer-devices">
            <thead><tr><th>Device</th><th>Status</th><th>Last seen</th><th></th></tr></thead>
            <tbody>{u.devices.map((d) => (
              <tr key={d.id} data-device={d.fingerprint}>
                <td>{d.fingerprint}</td><td><Badge value={d.status} /></td><td>{when(d.lastSeenAt)}</td>
                <td className="actions">
                  {(['NORMAL', 'ABNORMAL', 'BLACKLISTED'] as DeviceStatus[]).filter((s) => s !== d.status).map((s) => (
                    <button key={s} onClick={() => deviceTo(d.id, s)}>{s === 'NORMAL' ? 'Mark normal' : s === 'ABNORMAL' ? 'Mark abnormal' : 'Blacklist'}</button>
                  ))}
                </td>
              </tr>
            ))}</tbody>
          </table>
          <h2>Sign-ins</h2>
          <table className="grid compact">
            <thead><tr><th>When</th><th>Result</th><th>Address</th><th>Place</th></tr></thead>
            <tbody>{u.loginLogs.map((l) => (
              <tr key={l.id}><td>{when(l.createdAt)}</td><td>{l.success ? 'ok' : `failed: ${l.failureReason ?? ''}`}</td><td>{l.ipAddress}</td><td>{place(l.location)}</td></tr>
            ))}</tbody>
          </table>
        </section>
      </div>
      <section className="panel">
        <h2>Transactions</h2>
        <table className="grid compact" data-testid="customer-transactions">
          <thead><tr><th>When</th><th>ID</th><th>Amount</th><th>Merchant</th><th>Score</th><th>Decision</th><th>Status</th></tr></thead>
          <tbody>{u.transactions.edges.map(({ node: t }) => (
            <tr key={t.id}>
              <td>{when(t.occurredAt)}</td><td><Link to={`/transactions/${t.id}`}>#{t.id}</Link></td><td className="num">{t.amount} {t.currency}</td>
              <td>{t.merchantId}</td><td className="num">{t.detection?.riskScore.toFixed(0)}</td><td><Badge value={t.detection?.decision} /></td><td><Badge value={t.status} /></td>
            </tr>
          ))}</tbody>
        </table>
        <Pager cursor={cursor} pageInfo={u.transactions.pageInfo} total={u.transactions.totalCount} />
      </section>
    </article>
  );
}
