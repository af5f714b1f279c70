import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { Badge, ErrorNotice, Loading, when } from '../../ui/ui';
import { RuleEditor } from './RuleEditor';

const RulesQ = graphql(`
  query Rules { rules { id name description expression score priority type action enabled shadow version builtin hitCount lastHitAt } }
`);
const SetEnabled = graphql(`
  mutation SetRuleEnabled($id: ID!, $enabled: Boolean!) { setRuleEnabled(id: $id, enabled: $enabled) { id enabled version } }
`);

export function Rules({ admin }: { admin: boolean }) {
  const [res] = useQuery({ query: RulesQ });
  const [set, setEnabled] = useMutation(SetEnabled);
  // undefined: no editor; '': a new rule; else the rule being edited.
  const [editing, setEditing] = useState<string | undefined>();
  return (
    <section aria-labelledby="rules-title">
      <div className="titlebar">
        <h1 id="rules-title">Rules</h1>
        <button onClick={() => setEditing('')}>{admin ? 'New rule' : 'Try a condition'}</button>
      </div>
      {!admin && <p className="muted">Read only: rules are changed by administrators.</p>}
      {editing !== undefined && <RuleEditor key={editing || 'new'} id={editing || undefined} admin={admin} onSaved={setEditing} />}
      <ErrorNotice error={res.error ?? set.error} />
      <Loading when={res.fetching && !res.data} />
      <table className="grid" data-testid="rules">
        <thead><tr><th>Priority</th><th>Rule</th><th>Condition</th><th>Score</th><th>Mode</th><th>Hits</th><th>Last hit</th><th>Enabled</th></tr></thead>
        <tbody>
          {res.data?.rules.map((r) => (
            <tr key={r.id} data-rule={r.name} data-enabled={r.enabled}>
              <td className="num">{r.priority}</td>
              <td><button className="link" onClick={() => setEditing(r.id)} aria-label={`Open ${r.name}`}><strong>{r.name}</strong></button> <span className="muted small">v{r.version} · {r.type}</span><div className="small muted">{r.description}</div></td>
              <td><code>{r.expression}</code></td>
              <td className="num">{r.action === 'REJECT' ? 'reject' : `+${r.score}`}</td>
              <td>{r.shadow ? <Badge value="SHADOW" /> : <Badge value="ACTIVE" />}</td>
              <td className="num">{r.hitCount}</td>
              <td>{when(r.lastHitAt)}</td>
              <td>
                <label className="switch">
                  <input type="checkbox" checked={r.enabled} disabled={!admin || set.fetching} aria-label={`${r.name} enabled`}
                    onChange={(e) => void setEnabled({ id: r.id, enabled: e.target.checked })} />
                  {r.enabled ? 'on' : 'off'}
                </label>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
