import { useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { BacktestInput, RuleAction } from '../../gql/graphql';
import { flatten } from '../transactions/DetectionView';
import { ErrorNotice, Field, toInstant, when } from '../../ui/ui';
import { diffVersions } from './diff';

const RuleDetail = graphql(`
  query RuleDetail($id: ID!) {
    rule(id: $id) {
      id name description condition score priority type action enabled shadow version
      versions { version name description condition expression score priority type action enabled shadow createdAt }
    }
  }
`);
const LatestFeatures = graphql(`
  query LatestFeatures { transactions(first: 1) { edges { node { detection { features } } } } }
`);
const Upsert = graphql(`
  mutation UpsertRule($input: RuleInput!) { upsertRule(input: $input) { id name version enabled shadow expression } }
`);
const Backtest = graphql(`
  query Backtest($input: BacktestInput!) {
    backtestRule(input: $input) {
      expression evaluated hits hitRate labelledFraud labelledLegitimate fraudCaught legitimateHit
      precision recall addedFlagged addedFlaggedVolume truncated
    }
  }
`);

type Draft = { name: string; description: string; condition: string; score: number; priority: number; type: string; action: RuleAction; enabled: boolean; shadow: boolean };
const blank: Draft = { name: '', description: '', condition: '', score: 10, priority: 10, type: 'CUSTOM', action: 'SCORE', enabled: false, shadow: true };
const isoDay = (d: Date) => d.toISOString().slice(0, 16);

// RuleEditor edits one rule (or a new one): condition errors from the
// compiler show under the field, versions with what changed, and a backtest.
export function RuleEditor({ id, admin, onSaved }: { id?: string; admin: boolean; onSaved: (id: string) => void }) {
  const [detail] = useQuery({ query: RuleDetail, variables: { id: id ?? '' }, pause: !id });
  const [features] = useQuery({ query: LatestFeatures });
  const rule = id ? detail.data?.rule : null;
  const initial: Draft = rule
    ? { name: rule.name, description: rule.description, condition: rule.condition, score: rule.score, priority: rule.priority, type: rule.type, action: rule.action, enabled: rule.enabled, shadow: rule.shadow }
    : blank;
  const [edits, setEdits] = useState<Partial<Draft>>({});
  const draft = { ...initial, ...edits };
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setEdits((e) => ({ ...e, [k]: v }));
  const [saved, save] = useMutation(Upsert);
  const [period, setPeriod] = useState(() => ({ from: isoDay(new Date(Date.now() - 30 * 864e5)), to: isoDay(new Date(Date.now() + 3600e3)) }));
  const [btInput, setBtInput] = useState<BacktestInput | null>(null);
  const [backtest] = useQuery({ query: Backtest, variables: { input: btInput! }, pause: !btInput });
  const names = useMemo(() => {
    const f = features.data?.transactions.edges[0]?.node.detection?.features;
    return f ? flatten(f).map(([k]) => k) : [];
  }, [features.data]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await save({ input: { id, ...draft } });
    if (r.data) {
      setEdits({});
      onSaved(r.data.upsertRule.id);
    }
  }

  return (
    <section className="panel" aria-labelledby="editor-title" data-testid="rule-editor">
      <h2 id="editor-title">{rule ? `Edit “${rule.name}” (v${rule.version})` : 'New rule'}</h2>
      <form onSubmit={submit} className="editor">
        <div className="filters">
          <Field label="Name"><input value={draft.name} onChange={(e) => set('name', e.target.value)} required /></Field>
          <Field label="Type"><input value={draft.type} onChange={(e) => set('type', e.target.value)} size={10} /></Field>
          <Field label="Score"><input type="number" min={-100} max={100} value={draft.score} onChange={(e) => set('score', Number(e.target.value))} /></Field>
          <Field label="Priority"><input type="number" value={draft.priority} onChange={(e) => set('priority', Number(e.target.value))} /></Field>
          <Field label="Action">
            <select value={draft.action} onChange={(e) => set('action', e.target.value as RuleAction)}><option>SCORE</option><option>REVIEW</option><option>REJECT</option></select>
          </Field>
          <label className="inline"><input type="checkbox" checked={draft.enabled} onChange={(e) => set('enabled', e.target.checked)} /> enabled</label>
          <label className="inline"><input type="checkbox" checked={draft.shadow} onChange={(e) => set('shadow', e.target.checked)} /> shadow (record, don’t score)</label>
        </div>
        <Field label="Description"><input value={draft.description} onChange={(e) => set('description', e.target.value)} /></Field>
        <Field label="Condition: an expression over the features, or a seed-004 JSON condition">
          <textarea name="condition" value={draft.condition} onChange={(e) => set('condition', e.target.value)} rows={3} spellCheck={false}
            aria-invalid={!!saved.error} aria-describedby="condition-error" required />
        </Field>
        <div id="condition-error"><ErrorNotice error={saved.error} /></div>
        <div className="buttons">
          <button type="submit" disabled={!admin || saved.fetching}>{rule ? 'Save as a new version' : 'Create'}</button>
          {!admin && <span className="muted">Only administrators save rules; anyone on staff can backtest.</span>}
        </div>
      </form>
      <details>
        <summary>Features a condition can use ({names.length})</summary>
        <p className="small"><code>{names.join('  ')}</code></p>
      </details>
      <h3>Backtest</h3>
      <div className="filters">
        <Field label="From"><input type="datetime-local" value={period.from} onChange={(e) => setPeriod((p) => ({ ...p, from: e.target.value }))} /></Field>
        <Field label="To"><input type="datetime-local" value={period.to} onChange={(e) => setPeriod((p) => ({ ...p, to: e.target.value }))} /></Field>
        <button onClick={() => setBtInput({ condition: draft.condition, score: draft.score, from: toInstant(period.from)!, to: toInstant(period.to)! })}
          disabled={!draft.condition.trim() || !period.from || !period.to}>Run backtest</button>
      </div>
      <ErrorNotice error={backtest.error} />
      {backtest.data && (
        <dl className="facts" data-testid="backtest">
          <dt>Expression</dt><dd><code>{backtest.data.backtestRule.expression}</code></dd>
          <dt>Hits</dt><dd>{backtest.data.backtestRule.hits} of {backtest.data.backtestRule.evaluated} ({(backtest.data.backtestRule.hitRate * 100).toFixed(1)} %){backtest.data.backtestRule.truncated && ' (truncated)'}</dd>
          <dt>Labelled</dt><dd>{backtest.data.backtestRule.fraudCaught} of {backtest.data.backtestRule.labelledFraud} fraud caught; {backtest.data.backtestRule.legitimateHit} of {backtest.data.backtestRule.labelledLegitimate} legitimate hit</dd>
          <dt>Precision / recall</dt><dd>{backtest.data.backtestRule.precision?.toFixed(2) ?? '—'} / {backtest.data.backtestRule.recall?.toFixed(2) ?? '—'}</dd>
          <dt>Newly flagged</dt><dd>{backtest.data.backtestRule.addedFlagged} transactions, {backtest.data.backtestRule.addedFlaggedVolume}</dd>
        </dl>
      )}
      {rule && (
        <>
          <h3>Versions</h3>
          <ol className="timeline" data-testid="versions">
            {diffVersions(rule.versions).map(({ v, changes }) => (
              <li key={v.version}>
                <strong>v{v.version}</strong> <span className="muted small">{when(v.createdAt)}</span>
                <ul className="small">{changes.map((c) => (
                  <li key={c.field}>{c.field}: {c.before === undefined ? <code>{c.after}</code> : <><del>{c.before}</del> → <ins>{c.after}</ins></>}</li>
                ))}</ul>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
