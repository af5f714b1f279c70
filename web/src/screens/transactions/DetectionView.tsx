import { graphql } from '../../gql';
import type { DetectionViewFragment } from '../../gql/graphql';
import { Badge } from '../../ui/ui';

graphql(`
  fragment DetectionView on Detection {
    riskScore riskLevel decision ruleScore mlScore modelVersion reason features latencyMicros
    matchedRules { ruleId name version score type action reason }
    shadowRules { ruleId name version score reason }
    modelContributions { feature value contribution }
  }
`);

// flatten turns the nested feature snapshot into dotted names and readable values.
export function flatten(v: unknown, prefix = ''): [string, string][] {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    return Object.entries(v as Record<string, unknown>)
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([k, x]) => flatten(x, prefix ? `${prefix}.${k}` : k));
  }
  const text = Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ') : String(v ?? '—');
  return [[prefix, text]];
}

export function DetectionView({ d }: { d: DetectionViewFragment }) {
  return (
    <div className="detection">
      <dl className="facts">
        <dt>Score</dt><dd><strong>{d.riskScore.toFixed(1)}</strong> (rules {d.ruleScore}{d.mlScore != null ? `, model ${d.mlScore.toFixed(1)} · ${d.modelVersion}` : ', no model'})</dd>
        <dt>Level</dt><dd><Badge value={d.riskLevel} /></dd>
        <dt>Decision</dt><dd><Badge value={d.decision} /></dd>
        <dt>Reason</dt><dd>{d.reason}</dd>
        <dt>Engine time</dt><dd>{d.latencyMicros} µs</dd>
      </dl>
      <h3>Matched rules</h3>
      {d.matchedRules.length === 0 ? <p className="muted">None.</p> : (
        <table className="grid" data-testid="matched-rules">
          <thead><tr><th>Rule</th><th>Version</th><th>Score</th><th>Reason</th></tr></thead>
          <tbody>{d.matchedRules.map((m) => (
            <tr key={m.ruleId}><td>{m.name} <span className="muted small">{m.type}{m.action === 'REJECT' ? ' · rejects' : m.action === 'REVIEW' ? ' · holds for review' : ''}</span></td><td>v{m.version}</td><td className="num">+{m.score}</td><td>{m.reason}</td></tr>
          ))}</tbody>
        </table>
      )}
      {d.modelContributions && d.modelContributions.length > 0 && (
        <>
          <h3>Model: top contributions</h3>
          <table className="grid compact" data-testid="contributions">
            <thead><tr><th>Feature</th><th>Value</th><th>Push on the log-odds</th></tr></thead>
            <tbody>{d.modelContributions.map((c) => (
              <tr key={c.feature}><td>{c.feature}</td><td className="num">{c.value.toFixed(2)}</td><td className="num">{c.contribution > 0 ? '+' : ''}{c.contribution.toFixed(3)}</td></tr>
            ))}</tbody>
          </table>
        </>
      )}
      {d.shadowRules.length > 0 && <p className="muted">Shadow rules that matched: {d.shadowRules.map((s) => `${s.name} (v${s.version})`).join(', ')}</p>}
      <details>
        <summary>Feature snapshot</summary>
        <table className="grid compact" data-testid="features">
          <tbody>{flatten(d.features).map(([k, v]) => <tr key={k}><th scope="row">{k}</th><td>{v}</td></tr>)}</tbody>
        </table>
      </details>
    </div>
  );
}
