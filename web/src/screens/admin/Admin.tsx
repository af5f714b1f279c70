import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { Role } from '../../gql/graphql';
import { Badge, ErrorNotice, Field, Loading, Pager, toInstant, useCursor, when } from '../../ui/ui';

const tabs = ['Users and roles', 'Audit log', 'Data sources', 'Models'] as const;
type Tab = (typeof tabs)[number];

// Admin gathers the administration screens; analysts see the read-only parts.
export function Admin({ admin }: { admin: boolean }) {
  const [tab, setTab] = useState<Tab>(admin ? 'Users and roles' : 'Data sources');
  const shown = tabs.filter((t) => admin || t === 'Data sources' || t === 'Models');
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Administration</h1>
      <div className="chips" role="tablist">
        {shown.map((t) => <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? 'chip on' : 'chip'} onClick={() => setTab(t)}>{t}</button>)}
      </div>
      {tab === 'Users and roles' && <UsersAdmin />}
      {tab === 'Audit log' && <AuditLog />}
      {tab === 'Data sources' && <DataSources />}
      {tab === 'Models' && <Models admin={admin} />}
    </section>
  );
}

const roles: Role[] = ['USER', 'VIP', 'ANALYST', 'ADMIN', 'SERVICE'];
const StaffUsers = graphql(`
  query AdminUsers($first: Int, $after: String) {
    users(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { id username email role status lastLoginAt } }
    }
  }
`);
const CreateUser = graphql(`mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id username role } }`);
const SetRole = graphql(`mutation SetRole($id: ID!, $role: Role!) { updateUserRole(id: $id, role: $role) { id role } }`);

function UsersAdmin() {
  const cursor = useCursor();
  const [res, refetch] = useQuery({ query: StaffUsers, variables: { first: 25, after: cursor.after } });
  const [created, create] = useMutation(CreateUser);
  const [roleSet, setRole] = useMutation(SetRole);
  const [form, setForm] = useState({ username: '', password: '', email: '', role: 'ANALYST' as Role });
  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await create({ input: { ...form, email: form.email || undefined } });
    if (r.data) {
      setForm({ username: '', password: '', email: '', role: 'ANALYST' });
      refetch({ requestPolicy: 'network-only' });
    }
  }
  return (
    <>
      <form className="filters panel" onSubmit={submit} aria-label="Create an account">
        <Field label="Username"><input value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} required /></Field>
        <Field label="Password (8+)"><input type="password" autoComplete="new-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} required /></Field>
        <Field label="Email"><input type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} /></Field>
        <Field label="Role"><select value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>{roles.map((r) => <option key={r}>{r}</option>)}</select></Field>
        <button type="submit" disabled={created.fetching}>Create account</button>
      </form>
      <ErrorNotice error={created.error ?? roleSet.error ?? res.error} />
      <table className="grid" data-testid="admin-users">
        <thead><tr><th>ID</th><th>User</th><th>Email</th><th>Status</th><th>Last sign-in</th><th>Role</th></tr></thead>
        <tbody>{res.data?.users.edges.map(({ node: u }) => (
          <tr key={u.id}>
            <td>{u.id}</td><td>{u.username}</td><td>{u.email}</td><td><Badge value={u.status} /></td><td>{when(u.lastLoginAt)}</td>
            <td><select aria-label={`Role of ${u.username}`} value={u.role} onChange={(e) => void setRole({ id: u.id, role: e.target.value as Role })}>
              {roles.map((r) => <option key={r}>{r}</option>)}
            </select></td>
          </tr>
        ))}</tbody>
      </table>
      <Pager cursor={cursor} pageInfo={res.data?.users.pageInfo} total={res.data?.users.totalCount} />
    </>
  );
}

const Audit = graphql(`
  query Audit($filter: AuditLogFilter, $first: Int, $after: String) {
    auditLogs(filter: $filter, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { id action targetType targetId details ipAddress createdAt actor { username } } }
    }
  }
`);

function AuditLog() {
  const cursor = useCursor();
  const [f, setF] = useState({ action: '', targetType: '', from: '', to: '' });
  const filter = { action: f.action || undefined, targetType: f.targetType || undefined, from: toInstant(f.from), to: toInstant(f.to) };
  const [res] = useQuery({ query: Audit, variables: { filter, first: 30, after: cursor.after } });
  const change = (k: keyof typeof f) => (e: { target: { value: string } }) => { setF({ ...f, [k]: e.target.value }); cursor.reset(); };
  return (
    <>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <Field label="Action (e.g. rule.updated)"><input value={f.action} onChange={change('action')} /></Field>
        <Field label="Target type"><input value={f.targetType} onChange={change('targetType')} size={10} /></Field>
        <Field label="From"><input type="datetime-local" value={f.from} onChange={change('from')} /></Field>
        <Field label="To"><input type="datetime-local" value={f.to} onChange={change('to')} /></Field>
      </form>
      <ErrorNotice error={res.error} />
      <Loading when={res.fetching && !res.data} />
      <table className="grid compact" data-testid="audit">
        <thead><tr><th>When</th><th>Actor</th><th>Action</th><th>Target</th><th>Details</th><th>From</th></tr></thead>
        <tbody>{res.data?.auditLogs.edges.map(({ node: a }) => (
          <tr key={a.id}>
            <td>{when(a.createdAt)}</td><td>{a.actor?.username ?? '—'}</td><td>{a.action}</td><td>{a.targetType} {a.targetId}</td>
            <td><code>{JSON.stringify(a.details)}</code></td><td>{a.ipAddress}</td>
          </tr>
        ))}</tbody>
      </table>
      <Pager cursor={cursor} pageInfo={res.data?.auditLogs.pageInfo} total={res.data?.auditLogs.totalCount} />
    </>
  );
}

const Sources = graphql(`
  query Sources {
    dataSources { id name kind description config status lastSeenAt }
    dataQuality {
      completeness { total missingDevice missingIp missingLocation missingMerchant score }
      freshness { sourceName newestAt ageSeconds }
      anomalies { day count mean zScore direction }
    }
  }
`);

function DataSources() {
  const [res] = useQuery({ query: Sources });
  const q = res.data?.dataQuality;
  return (
    <>
      <ErrorNotice error={res.error} />
      <Loading when={res.fetching && !res.data} />
      <table className="grid" data-testid="sources">
        <thead><tr><th>Source</th><th>Kind</th><th>Status</th><th>Last seen</th><th>Configuration (secrets masked by the server)</th></tr></thead>
        <tbody>{res.data?.dataSources.map((s) => (
          <tr key={s.id}><td><strong>{s.name}</strong><div className="small muted">{s.description}</div></td><td>{s.kind}</td><td><Badge value={s.status} /></td>
            <td>{when(s.lastSeenAt)}</td><td><code>{JSON.stringify(s.config)}</code></td></tr>
        ))}</tbody>
      </table>
      {q && (
        <div className="columns">
          <section className="panel">
            <h2>Completeness (last 30 days): {(q.completeness.score * 100).toFixed(1)} %</h2>
            <p>{q.completeness.total} transactions; missing device {q.completeness.missingDevice}, IP {q.completeness.missingIp}, location {q.completeness.missingLocation}, merchant {q.completeness.missingMerchant}.</p>
          </section>
          <section className="panel">
            <h2>Freshness</h2>
            <ul>{q.freshness.map((f) => <li key={f.sourceName}>{f.sourceName}: newest {when(f.newestAt)}</li>)}</ul>
            <h2>Volume anomalies</h2>
            {q.anomalies.length === 0 ? <p className="muted">None.</p> : <ul>{q.anomalies.map((a) => <li key={a.day}>{when(a.day)}: {a.direction} {a.count} (mean {a.mean.toFixed(1)}, z {a.zScore.toFixed(1)})</li>)}</ul>}
          </section>
        </div>
      )}
    </>
  );
}

const ModelsQ = graphql(`
  query Models {
    models(first: 20) { edges { node {
      id version algorithm active activatedAt createdAt
      metrics { heldOut { rows fraud legitimate } train { rows } precision recall auc threshold truePositives falsePositives trueNegatives falseNegatives }
    } } }
  }
`);
const Train = graphql(`mutation TrainModel { trainModel { id version } }`);
const Activate = graphql(`mutation ActivateModel($id: ID!) { activateModel(id: $id) { id active } }`);
const Deactivate = graphql(`mutation DeactivateModel($id: ID!) { deactivateModel(id: $id) { id active } }`);

function Models({ admin }: { admin: boolean }) {
  const [res, refetch] = useQuery({ query: ModelsQ });
  const [trained, train] = useMutation(Train);
  const [activated, activate] = useMutation(Activate);
  const [deactivated, deactivate] = useMutation(Deactivate);
  const again = () => refetch({ requestPolicy: 'network-only' });
  return (
    <>
      {admin && <button onClick={() => void train({}).then(again)} disabled={trained.fetching}>{trained.fetching ? 'Training…' : 'Train on the last 30 days of labels'}</button>}
      <ErrorNotice error={res.error ?? trained.error ?? activated.error ?? deactivated.error} />
      <table className="grid" data-testid="models">
        <thead><tr><th>Version</th><th>Algorithm</th><th>Trained</th><th>Held out (fraud / legit)</th><th>Precision</th><th>Recall</th><th>AUC</th><th>Confusion (TP FP TN FN)</th><th></th></tr></thead>
        <tbody>{res.data?.models.edges.map(({ node: m }) => (
          <tr key={m.id}>
            <td>v{m.version} {m.active && <Badge value="ACTIVE" />}</td><td>{m.algorithm}</td><td>{when(m.createdAt)}</td>
            <td>{m.metrics.heldOut.rows} ({m.metrics.heldOut.fraud} / {m.metrics.heldOut.legitimate})</td>
            <td className="num">{m.metrics.precision?.toFixed(2) ?? '—'}</td><td className="num">{m.metrics.recall.toFixed(2)}</td><td className="num">{m.metrics.auc.toFixed(2)}</td>
            <td>{m.metrics.truePositives} {m.metrics.falsePositives} {m.metrics.trueNegatives} {m.metrics.falseNegatives}</td>
            <td>{admin && (m.active
              ? <button onClick={() => void deactivate({ id: m.id }).then(again)}>Deactivate</button>
              : <button onClick={() => void activate({ id: m.id }).then(again)}>Activate</button>)}</td>
          </tr>
        ))}</tbody>
      </table>
      {res.data?.models.edges.length === 0 && <p className="muted">No model trained yet: scoring uses the rules alone.</p>}
    </>
  );
}
