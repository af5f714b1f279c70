import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { Badge, ErrorNotice, Loading, when } from '../../ui/ui';
import { DetectionView } from './DetectionView';

const Tx = graphql(`
  query Transaction($id: ID!) {
    transaction(id: $id) {
      id amount currency merchantId merchantCategory channel ipAddress status occurredAt createdAt deviceFingerprint
      user { id username }
      device { id fingerprint status }
      location { latitude longitude city country }
      detection { ...DetectionView }
      riskEvent { id status title }
    }
  }
`);

export function TransactionDetail({ staff }: { staff: boolean }) {
  const { id = '' } = useParams();
  const [res] = useQuery({ query: Tx, variables: { id } });
  const t = res.data?.transaction;
  if (res.fetching && !res.data) return <Loading when />;
  if (!t) return <><ErrorNotice error={res.error} />{!res.error && <p className="error" role="alert">Not found, or not yours to see.</p>}</>;
  return (
    <article aria-labelledby="txd-title">
      <p><Link to="/transactions">← Transactions</Link></p>
      <div className="titlebar"><h1 id="txd-title">Transaction #{t.id}</h1><Badge value={t.status} /></div>
      <div className="columns">
        <section className="panel">
          <dl className="facts">
            <dt>Amount</dt><dd>{t.amount} {t.currency}</dd>
            <dt>Customer</dt><dd>{t.user?.username ?? '—'}</dd>
            <dt>Merchant</dt><dd>{t.merchantId ?? '—'} {t.merchantCategory && `(${t.merchantCategory})`}</dd>
            <dt>Channel</dt><dd>{t.channel ?? '—'}</dd>
            <dt>Device</dt><dd>{t.device?.fingerprint ?? t.deviceFingerprint ?? '—'} <Badge value={t.device?.status} /></dd>
            <dt>Place</dt><dd>{[t.location?.city, t.location?.country].filter(Boolean).join(', ') || '—'} · {t.ipAddress ?? ''}</dd>
            <dt>Occurred</dt><dd>{when(t.occurredAt)}</dd>
            <dt>Received</dt><dd>{when(t.createdAt)}</dd>
            {t.riskEvent && <><dt>Case</dt><dd>{staff ? <Link to={`/cases/${t.riskEvent.id}`}>#{t.riskEvent.id} {t.riskEvent.title}</Link> : t.riskEvent.title} <Badge value={t.riskEvent.status} /></dd></>}
          </dl>
        </section>
        <section className="panel"><h2>Detection</h2>{t.detection ? <DetectionView d={t.detection} /> : <p className="muted">Not scored.</p>}</section>
      </div>
    </article>
  );
}
