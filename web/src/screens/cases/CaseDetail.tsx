import { lazy, Suspense, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { EventAction } from '../../gql/graphql';
import { DetectionView } from '../transactions/DetectionView';
import { Badge, ErrorNotice, Loading, when } from '../../ui/ui';

// Cytoscape is large: loaded only when a case is opened.
const RelatedGraph = lazy(() => import('../graph/RelatedGraph'));

const Case = graphql(`
  query Case($id: ID!) {
    riskEvent(id: $id) {
      id title description type level status riskScore version createdAt updatedAt
      assignee { id username }
      user {
        id username status role
        riskProfile { score level reasons { factor points detail } }
      }
      transaction {
        id amount currency merchantId channel ipAddress occurredAt status deviceFingerprint
        device { id fingerprint status }
        location { city country }
        detection { ...DetectionView }
      }
      alerts { id level status title createdAt }
      timeline { id kind action note fromStatus toStatus createdAt actor { username } }
      suggestions { action reason priority }
    }
  }
`);
const Handle = graphql(`
  mutation HandleEvent($id: ID!, $input: HandleRiskEventInput!) {
    handleRiskEvent(id: $id, input: $input) { id status version assignee { id username } }
  }
`);

// Which steps the workflow allows from each status (the server decides; this hides dead buttons).
const allowed: Record<string, EventAction[]> = {
  OPEN: ['START', 'ESCALATE'],
  INVESTIGATING: ['CONFIRM_FRAUD', 'MARK_FALSE_POSITIVE', 'ESCALATE'],
  ESCALATED: ['START', 'CONFIRM_FRAUD', 'MARK_FALSE_POSITIVE'],
  CONFIRMED_FRAUD: ['CLOSE'],
  FALSE_POSITIVE: ['CLOSE'],
  CLOSED: [],
};
const labels: Record<string, string> = {
  START: 'Start investigating', ESCALATE: 'Escalate', CONFIRM_FRAUD: 'Confirm fraud',
  MARK_FALSE_POSITIVE: 'False positive', CLOSE: 'Close', COMMENT: 'Add comment', ASSIGN: 'Assign to me',
};

export function CaseDetail({ me }: { me: string }) {
  const { id = '' } = useParams();
  const [res, reload] = useQuery({ query: Case, variables: { id } });
  const [done, handle] = useMutation(Handle);
  const [note, setNote] = useState('');
  const [freeze, setFreeze] = useState(false);
  const [blacklist, setBlacklist] = useState(false);
  const [depth, setDepth] = useState(1);
  const ev = res.data?.riskEvent;

  async function act(action: EventAction) {
    if (!ev) return;
    const r = await handle({ id: ev.id, input: {
      action, note: note || undefined, expectedVersion: ev.version,
      assigneeId: action === 'ASSIGN' ? me : undefined,
      freezeUser: action === 'CONFIRM_FRAUD' ? freeze : undefined,
      blacklistDevice: action === 'CONFIRM_FRAUD' ? blacklist : undefined,
    } });
    if (!r.error) setNote('');
    reload({ requestPolicy: 'network-only' });
  }

  if (res.fetching && !res.data) return <Loading when />;
  if (!ev) return <><ErrorNotice error={res.error} />{!res.error && <p className="error" role="alert">Not found, or not yours to see.</p>}</>;
  const tx = ev.transaction;
  return (
    <article aria-labelledby="case-title" className="case">
      <p><Link to="/cases">← Case queue</Link></p>
      <div className="titlebar">
        <h1 id="case-title">Case #{ev.id}: {ev.title}</h1>
        <Badge value={ev.level} /> <Badge value={ev.status} /> <span className="muted">v{ev.version}</span>
      </div>
      <p>{ev.description}</p>
      <section className="panel actions-panel" aria-label="Handle the case">
        <p>Assignee: <strong>{ev.assignee?.username ?? 'nobody'}</strong></p>
        <textarea aria-label="Note" placeholder="Note (required for a comment)" value={note} onChange={(e) => setNote(e.target.value)} maxLength={2000} />
        {allowed[ev.status]?.includes('CONFIRM_FRAUD') && (
          <div className="inline">
            <label><input type="checkbox" checked={freeze} onChange={(e) => setFreeze(e.target.checked)} /> freeze the customer</label>
            <label><input type="checkbox" checked={blacklist} onChange={(e) => setBlacklist(e.target.checked)} /> blacklist the device</label>
          </div>
        )}
        <div className="buttons">
          {(allowed[ev.status] ?? []).map((a) => <button key={a} data-action={a} onClick={() => void act(a)} disabled={done.fetching}>{labels[a]}</button>)}
          {ev.assignee?.id !== me && <button data-action="ASSIGN" onClick={() => void act('ASSIGN')}>{labels.ASSIGN}</button>}
          <button data-action="COMMENT" onClick={() => void act('COMMENT')} disabled={!note.trim()}>{labels.COMMENT}</button>
        </div>
        <ErrorNotice error={done.error} />
      </section>
      <div className="columns">
        <section className="panel" aria-labelledby="tx-title">
          <h2 id="tx-title">Transaction {tx && <Link to={`/transactions/${tx.id}`}>#{tx.id}</Link>}</h2>
          {tx && (
            <dl className="facts">
              <dt>Amount</dt><dd>{tx.amount} {tx.currency}</dd>
              <dt>Customer</dt><dd>{ev.user && <Link to={`/users/${ev.user.id}`}>{ev.user.username}</Link>} <Badge value={ev.user?.status} /></dd>
              <dt>Merchant</dt><dd>{tx.merchantId ?? '—'}</dd>
              <dt>Device</dt><dd>{tx.device?.fingerprint ?? tx.deviceFingerprint ?? '—'} <Badge value={tx.device?.status} /></dd>
              <dt>Place</dt><dd>{[tx.location?.city, tx.location?.country].filter(Boolean).join(', ') || '—'} · {tx.ipAddress}</dd>
              <dt>When</dt><dd>{when(tx.occurredAt)}</dd>
            </dl>
          )}
          {tx?.detection && <DetectionView d={tx.detection} />}
        </section>
        <section className="panel" aria-labelledby="tl-title">
          <h2 id="tl-title">Timeline</h2>
          <ol className="timeline" data-testid="timeline">
            {ev.timeline.map((t) => (
              <li key={t.id} data-step={t.action}>
                <span className="muted small">{when(t.createdAt)}</span>{' '}
                <strong>{t.action.replaceAll('_', ' ')}</strong>
                {t.toStatus && <> → <Badge value={t.toStatus} /></>}
                {t.actor && <> by {t.actor.username}</>}
                {t.note && <div className="small">{t.note}</div>}
              </li>
            ))}
          </ol>
          <h2>Alerts</h2>
          <ul>{ev.alerts.map((a) => <li key={a.id}><Badge value={a.level} /> <Badge value={a.status} /> {a.title}</li>)}</ul>
          <h2>Suggestions</h2>
          <ul>{ev.suggestions.map((s) => <li key={s.action}><strong>{s.action.replaceAll('_', ' ')}</strong>: {s.reason}</li>)}</ul>
          {ev.user && (
            <>
              <h2>Risk profile: {ev.user.riskProfile.score} <Badge value={ev.user.riskProfile.level} /></h2>
              <ul>{ev.user.riskProfile.reasons.map((r) => <li key={r.factor}>+{r.points} {r.detail}</li>)}</ul>
            </>
          )}
        </section>
      </div>
      {ev.user && (
        <section className="panel" aria-labelledby="graph-title">
          <div className="titlebar">
            <h2 id="graph-title">Related users</h2>
            <label className="inline">Depth{' '}
              <select value={depth} onChange={(e) => setDepth(Number(e.target.value))}>{[1, 2, 3].map((d) => <option key={d}>{d}</option>)}</select>
            </label>
          </div>
          <Suspense fallback={<p className="muted">Loading the graph…</p>}>
            <RelatedGraph userId={ev.user.id} depth={depth} />
          </Suspense>
        </section>
      )}
    </article>
  );
}
