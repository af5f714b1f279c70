import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { Badge, ErrorNotice, Loading, when } from '../../ui/ui';

const Me = graphql(`
  query Me {
    me {
      id username email role status createdAt lastLoginAt
      lastLocation { city country }
      devices { id fingerprint status firstSeenAt lastSeenAt }
      loginLogs(first: 10) { id success failureReason ipAddress createdAt location { city country } }
    }
  }
`);

export function MyAccount() {
  const [res] = useQuery({ query: Me });
  const me = res.data?.me;
  return (
    <section aria-labelledby="me-title">
      <h1 id="me-title">My account</h1>
      <ErrorNotice error={res.error} />
      <Loading when={res.fetching && !me} />
      {me && (
        <div className="columns">
          <section className="panel">
            <dl className="facts">
              <dt>User</dt><dd>{me.username} <Badge value={me.role} /> <Badge value={me.status} /></dd>
              <dt>Email</dt><dd>{me.email || '—'}</dd>
              <dt>Since</dt><dd>{when(me.createdAt)}</dd>
              <dt>Last sign-in</dt><dd>{when(me.lastLoginAt)} {me.lastLocation && `· ${[me.lastLocation.city, me.lastLocation.country].filter(Boolean).join(', ')}`}</dd>
            </dl>
          </section>
          <section className="panel">
            <h2>My devices</h2>
            <table className="grid compact" data-testid="devices">
              <thead><tr><th>Device</th><th>Status</th><th>Last seen</th></tr></thead>
              <tbody>{me.devices.map((d) => <tr key={d.id}><td>{d.fingerprint}</td><td><Badge value={d.status} /></td><td>{when(d.lastSeenAt)}</td></tr>)}</tbody>
            </table>
            <h2>Recent sign-ins</h2>
            <table className="grid compact">
              <thead><tr><th>When</th><th>Result</th><th>From</th></tr></thead>
              <tbody>{me.loginLogs.map((l) => (
                <tr key={l.id}><td>{when(l.createdAt)}</td><td>{l.success ? 'ok' : `failed (${l.failureReason ?? ''})`}</td><td>{l.ipAddress} {l.location?.city}</td></tr>
              ))}</tbody>
            </table>
          </section>
        </div>
      )}
    </section>
  );
}
