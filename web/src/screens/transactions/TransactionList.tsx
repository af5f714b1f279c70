import { useState } from 'react';
import { Link } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import type { Decision, RiskLevel } from '../../gql/graphql';
import { Badge, ErrorNotice, Field, Loading, Pager, toInstant, useCursor, when } from '../../ui/ui';

const Transactions = graphql(`
  query Transactions($filter: TransactionFilter, $first: Int, $after: String) {
    transactions(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node {
        id amount currency merchantId channel status occurredAt userId
        user { id username }
        detection { riskScore riskLevel decision }
      } }
    }
  }
`);

export function TransactionList({ staff }: { staff: boolean }) {
  const [userId, setUserId] = useState('');
  const [decision, setDecision] = useState<Decision | ''>('');
  const [level, setLevel] = useState<RiskLevel | ''>('');
  const [minAmount, setMinAmount] = useState('');
  const [maxAmount, setMaxAmount] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const cursor = useCursor();
  const filter = {
    userId: userId || undefined, decision: decision || undefined, riskLevel: level || undefined,
    minAmount: minAmount || undefined, maxAmount: maxAmount || undefined, from: toInstant(from), to: toInstant(to),
  };
  const [res] = useQuery({ query: Transactions, variables: { filter, first: 25, after: cursor.after } });
  const change = <T,>(set: (v: T) => void) => (v: T) => { set(v); cursor.reset(); };
  const rows = res.data?.transactions.edges.map((e) => e.node) ?? [];

  return (
    <section aria-labelledby="tx-title">
      <h1 id="tx-title">{staff ? 'Transactions' : 'My transactions'}</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        {staff && <Field label="User ID"><input inputMode="numeric" value={userId} onChange={(e) => change(setUserId)(e.target.value.trim())} size={6} /></Field>}
        <Field label="Decision">
          <select value={decision} onChange={(e) => change(setDecision)(e.target.value as Decision | '')}>
            <option value="">any</option><option>PASS</option><option>REVIEW</option><option>REJECT</option>
          </select>
        </Field>
        <Field label="Level">
          <select value={level} onChange={(e) => change(setLevel)(e.target.value as RiskLevel | '')}>
            <option value="">any</option><option>LOW</option><option>MEDIUM</option><option>HIGH</option>
          </select>
        </Field>
        <Field label="Amount at least"><input name="minAmount" inputMode="decimal" value={minAmount} onChange={(e) => change(setMinAmount)(e.target.value.trim())} size={8} /></Field>
        <Field label="Amount at most"><input name="maxAmount" inputMode="decimal" value={maxAmount} onChange={(e) => change(setMaxAmount)(e.target.value.trim())} size={8} /></Field>
        <Field label="From"><input type="datetime-local" value={from} onChange={(e) => change(setFrom)(e.target.value)} /></Field>
        <Field label="To"><input type="datetime-local" value={to} onChange={(e) => change(setTo)(e.target.value)} /></Field>
      </form>
      <ErrorNotice error={res.error} />
      <Loading when={res.fetching && !res.data} />
      <table className="grid" data-testid="transactions">
        <thead><tr><th>When</th><th>ID</th>{staff && <th>Customer</th>}<th>Amount</th><th>Merchant</th><th>Score</th><th>Level</th><th>Decision</th><th>Status</th></tr></thead>
        <tbody>
          {rows.map((t) => (
            <tr key={t.id} data-user={t.user?.username}>
              <td>{when(t.occurredAt)}</td>
              <td><Link to={`/transactions/${t.id}`}>#{t.id}</Link></td>
              {staff && <td>{t.user && <Link to={`/users/${t.user.id}`}>{t.user.username}</Link>}</td>}
              <td className="num">{t.amount} {t.currency}</td>
              <td>{t.merchantId}</td>
              <td className="num">{t.detection?.riskScore.toFixed(0)}</td>
              <td><Badge value={t.detection?.riskLevel} /></td>
              <td><Badge value={t.detection?.decision} /></td>
              <td><Badge value={t.status} /></td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager cursor={cursor} pageInfo={res.data?.transactions.pageInfo} total={res.data?.transactions.totalCount} />
    </section>
  );
}
