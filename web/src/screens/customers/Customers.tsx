import { useState } from 'react';
import { Link } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import type { Role, UserStatus } from '../../gql/graphql';
import { Badge, ErrorNotice, Field, Loading, Pager, useCursor, when } from '../../ui/ui';

const Users = graphql(`
  query Users($filter: UserFilter, $first: Int, $after: String) {
    users(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id username email role status createdAt lastLoginAt } }
    }
  }
`);

export function Customers() {
  const [search, setSearch] = useState('');
  const [role, setRole] = useState<Role | ''>('');
  const [status, setStatus] = useState<UserStatus | ''>('');
  const cursor = useCursor();
  const [res] = useQuery({ query: Users, variables: {
    filter: { search: search || undefined, role: role || undefined, status: status || undefined }, first: 25, after: cursor.after,
  } });
  const change = <T,>(set: (v: T) => void) => (v: T) => { set(v); cursor.reset(); };
  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">Customers and accounts</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <Field label="Name or email"><input type="search" value={search} onChange={(e) => change(setSearch)(e.target.value)} /></Field>
        <Field label="Role">
          <select value={role} onChange={(e) => change(setRole)(e.target.value as Role | '')}>
            <option value="">any</option>{['USER', 'VIP', 'ANALYST', 'ADMIN', 'SERVICE'].map((r) => <option key={r}>{r}</option>)}
          </select>
        </Field>
        <Field label="Status">
          <select value={status} onChange={(e) => change(setStatus)(e.target.value as UserStatus | '')}>
            <option value="">any</option><option>ACTIVE</option><option>FROZEN</option><option>DISABLED</option>
          </select>
        </Field>
      </form>
      <ErrorNotice error={res.error} />
      <Loading when={res.fetching && !res.data} />
      <table className="grid" data-testid="users">
        <thead><tr><th>ID</th><th>User</th><th>Email</th><th>Role</th><th>Status</th><th>Since</th><th>Last sign-in</th></tr></thead>
        <tbody>{res.data?.users.edges.map(({ node: u }) => (
          <tr key={u.id}>
            <td>{u.id}</td><td><Link to={`/users/${u.id}`}>{u.username}</Link></td><td>{u.email}</td>
            <td><Badge value={u.role} /></td><td><Badge value={u.status} /></td><td>{when(u.createdAt)}</td><td>{when(u.lastLoginAt)}</td>
          </tr>
        ))}</tbody>
      </table>
      <Pager cursor={cursor} pageInfo={res.data?.users.pageInfo} total={res.data?.users.totalCount} />
    </section>
  );
}
