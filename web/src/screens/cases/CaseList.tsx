import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { EventStatus, RiskLevel } from '../../gql/graphql';
import { Badge, ErrorNotice, Field, Loading, Pager, toInstant, useCursor, when } from '../../ui/ui';

const Cases = graphql(`
  query Cases($filter: RiskEventFilter, $first: Int, $after: String, $from: Time!, $to: Time!) {
    riskEvents(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id title type level status riskScore createdAt version user { id username } assignee { id username } } }
    }
    riskEventStats(from: $from, to: $to) { total byStatus { key count } }
  }
`);
const AssignToMe = graphql(`
  mutation AssignToMe($id: ID!, $input: HandleRiskEventInput!) { handleRiskEvent(id: $id, input: $input) { id version assignee { id username } } }
`);

const statuses: EventStatus[] = ['OPEN', 'INVESTIGATING', 'ESCALATED', 'CONFIRMED_FRAUD', 'FALSE_POSITIVE', 'CLOSED'];

export function CaseList({ me }: { me: string }) {
  const [status, setStatus] = useState<EventStatus | ''>('');
  const [level, setLevel] = useState<RiskLevel | ''>('');
  const [mine, setMine] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const cursor = useCursor();
  const filter = {
    status: status || undefined, level: level || undefined, assigneeId: mine ? me : undefined,
    from: toInstant(from), to: toInstant(to),
  };
  // Counts per status cover the chosen period, else the last 90 days.
  const period = useMemo(() => ({
    from: toInstant(from) ?? new Date(Date.now() - 90 * 864e5).toISOString(),
    to: toInstant(to) ?? new Date(Date.now() + 3600e3).toISOString(),
  }), [from, to]);
  const [res] = useQuery({ query: Cases, variables: { filter, first: 20, after: cursor.after, ...period } });
  const [assigned, assign] = useMutation(AssignToMe);
  const counts = new Map(res.data?.riskEventStats.byStatus.map((k) => [k.key, k.count]));
  const change = <T,>(set: (v: T) => void) => (v: T) => { set(v); cursor.reset(); };

  return (
    <section aria-labelledby="cases-title">
      <h1 id="cases-title">Case queue</h1>
      <div className="chips" role="group" aria-label="Counts per status">
        <button className={status === '' ? 'chip on' : 'chip'} onClick={() => change(setStatus)('')}>All {res.data?.riskEventStats.total ?? ''}</button>
        {statuses.map((s) => (
          <button key={s} className={status === s ? 'chip on' : 'chip'} onClick={() => change(setStatus)(s)}>
            {s.replaceAll('_', ' ')} <b>{counts.get(s) ?? 0}</b>
          </button>
        ))}
      </div>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <Field label="Level">
          <select value={level} onChange={(e) => change(setLevel)(e.target.value as RiskLevel | '')}>
            <option value="">any</option><option>MEDIUM</option><option>HIGH</option><option>LOW</option>
          </select>
        </Field>
        <Field label="From"><input type="datetime-local" value={from} onChange={(e) => change(setFrom)(e.target.value)} /></Field>
        <Field label="To"><input type="datetime-local" value={to} onChange={(e) => change(setTo)(e.target.value)} /></Field>
        <label className="inline"><input type="checkbox" checked={mine} onChange={(e) => change(setMine)(e.target.checked)} /> Assigned to me</label>
      </form>
      <ErrorNotice error={res.error ?? assigned.error} />
      <Loading when={res.fetching && !res.data} />
      <table className="grid">
        <thead><tr><th>Opened</th><th>Case</th><th>Level</th><th>Score</th><th>Status</th><th>Customer</th><th>Assignee</th><th></th></tr></thead>
        <tbody>
          {res.data?.riskEvents.edges.map(({ node: e }) => (
            <tr key={e.id} data-event-id={e.id}>
              <td>{when(e.createdAt)}</td>
              <td><Link to={`/cases/${e.id}`}>#{e.id} {e.title}</Link><div className="muted small">{e.type}</div></td>
              <td><Badge value={e.level} /></td>
              <td className="num">{e.riskScore.toFixed(0)}</td>
              <td><Badge value={e.status} /></td>
              <td>{e.user?.username}</td>
              <td>{e.assignee?.username ?? '—'}</td>
              <td>{e.assignee?.id !== me && (
                <button onClick={() => void assign({ id: e.id, input: { action: 'ASSIGN', assigneeId: me, expectedVersion: e.version } })}>Assign to me</button>
              )}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager cursor={cursor} pageInfo={res.data?.riskEvents.pageInfo} total={res.data?.riskEvents.totalCount} />
    </section>
  );
}
