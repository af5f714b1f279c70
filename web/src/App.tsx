import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { NavLink, Navigate, Route, Routes } from 'react-router';
import { Provider } from 'urql';
import { makeApi } from './api/client';
import { ApiContext } from './api/context';
import { getState, isStaff, logout, restore, subscribe, type SessionState } from './api/session';
import { SignIn } from './screens/signin/SignIn';
import { Alerts } from './screens/alerts/Alerts';
import { CaseList } from './screens/cases/CaseList';
import { CaseDetail } from './screens/cases/CaseDetail';
import { TransactionList } from './screens/transactions/TransactionList';
import { TransactionDetail } from './screens/transactions/TransactionDetail';
import { Rules } from './screens/rules/Rules';
import { MyAccount } from './screens/account/MyAccount';
import { Customers } from './screens/customers/Customers';
import { Customer360 } from './screens/customers/Customer360';
import { Admin } from './screens/admin/Admin';

// The dashboard carries the chart library: loaded only when opened.
const Dashboard = lazy(() => import('./screens/dashboard/Dashboard'));

export function App() {
  const [state, setState] = useState<SessionState>(getState());
  const [restoring, setRestoring] = useState(true);
  useEffect(() => subscribe(setState), []);
  useEffect(() => {
    restore().finally(() => setRestoring(false));
  }, []);
  const userId = state.session?.user.id;
  // A client per signed-in user: nothing cached or subscribed outlives a sign-out.
  const api = useMemo(() => (userId ? makeApi() : null), [userId]);
  useEffect(() => () => void api?.ws.dispose(), [api]);

  if (restoring) return <p className="muted center">Loading…</p>;
  // Signing in again after expiry keeps the page the analyst was on.
  if (!state.session || !api) return <SignIn expired={state.expired} />;
  const { user } = state.session;
  const staff = isStaff(user.role);
  return (
    <ApiContext.Provider value={api}>
      <Provider value={api.client}>
        <a className="skip" href="#main">Skip to content</a>
        <header className="top">
          <strong className="brand">SmartFinance Risk</strong>
          <nav aria-label="Screens">
            {staff ? (
              <>
                <NavLink to="/alerts">Alerts</NavLink>
                <NavLink to="/cases">Cases</NavLink>
                <NavLink to="/transactions">Transactions</NavLink>
                <NavLink to="/users">Customers</NavLink>
                <NavLink to="/dashboard">Dashboard</NavLink>
                <NavLink to="/rules">Rules</NavLink>
                <NavLink to="/admin">{user.role === 'ADMIN' ? 'Administration' : 'Data and models'}</NavLink>
              </>
            ) : (
              <>
                <NavLink to="/account">My account</NavLink>
                <NavLink to="/transactions">My transactions</NavLink>
              </>
            )}
          </nav>
          <span className="who" data-testid="who">{user.username} · {user.role}</span>
          <button onClick={() => void logout()}>Sign out</button>
        </header>
        <main id="main">
          <Suspense fallback={<p className="muted">Loading…</p>}>
            <Routes>
              <Route path="/" element={<Navigate to={staff ? '/alerts' : '/account'} replace />} />
              <Route path="/transactions" element={<TransactionList staff={staff} />} />
              <Route path="/transactions/:id" element={<TransactionDetail staff={staff} />} />
              <Route path="/account" element={<MyAccount />} />
              {staff && (
                <>
                  <Route path="/alerts" element={<Alerts />} />
                  <Route path="/cases" element={<CaseList me={user.id} />} />
                  <Route path="/cases/:id" element={<CaseDetail me={user.id} />} />
                  <Route path="/users" element={<Customers />} />
                  <Route path="/users/:id" element={<Customer360 admin={user.role === 'ADMIN'} />} />
                  <Route path="/dashboard" element={<Dashboard />} />
                  <Route path="/rules" element={<Rules admin={user.role === 'ADMIN'} />} />
                  <Route path="/admin" element={<Admin admin={user.role === 'ADMIN'} />} />
                </>
              )}
              <Route path="*" element={<p className="error" role="alert">This page does not exist or is not available to your role.</p>} />
            </Routes>
          </Suspense>
        </main>
      </Provider>
    </ApiContext.Provider>
  );
}
