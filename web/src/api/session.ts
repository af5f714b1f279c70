// The signed-in session: the access token lives in memory, the single-use
// refresh token in sessionStorage so a reload keeps the tab signed in. The
// token is rotated in the background a minute before it expires.
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { graphql } from '../gql';
import type { Role } from '../gql/graphql';
import type { ErrorLike } from './errors';

export type SessionUser = { id: string; username: string; role: Role };
export type Session = { accessToken: string; refreshToken: string; expiresAt: number; user: SessionUser };
export type SessionState = { session: Session | null; expired: boolean };

const LoginDoc = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) { accessToken refreshToken expiresAt user { id username role } }
  }
`);
const RefreshDoc = graphql(`
  mutation Refresh($token: String!) {
    refreshToken(refreshToken: $token) { accessToken refreshToken expiresAt user { id username role } }
  }
`);
const LogoutDoc = graphql(`
  mutation Logout($token: String) { logout(refreshToken: $token) }
`);

const storageKey = 'riskgraph.refreshToken';
const refreshAhead = 60_000;

let state: SessionState = { session: null, expired: false };
const listeners = new Set<(s: SessionState) => void>();
let timer: ReturnType<typeof setTimeout> | undefined;
let inflight: Promise<Session | null> | undefined;

export class ApiError extends Error implements ErrorLike {
  graphQLErrors: ErrorLike['graphQLErrors'];
  networkError?: unknown;
  constructor(errors: ErrorLike['graphQLErrors'], networkError?: unknown) {
    super(errors?.[0]?.message ?? 'request failed');
    this.graphQLErrors = errors;
    this.networkError = networkError;
  }
}

async function post<R, V>(doc: TypedDocumentNode<R, V>, variables: V): Promise<R> {
  let res: Response;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: print(doc), variables }),
    });
  } catch (e) {
    throw new ApiError(undefined, e);
  }
  const body = await res.json().catch(() => ({}));
  if (body.errors?.length) throw new ApiError(body.errors);
  if (!body.data) throw new ApiError(undefined, new Error(`HTTP ${res.status}`));
  return body.data as R;
}

function set(next: SessionState) {
  state = next;
  clearTimeout(timer);
  if (next.session) {
    sessionStorage.setItem(storageKey, next.session.refreshToken);
    // setTimeout fires at once beyond 2^31 ms, so the wait is capped.
    const wait = Math.min(Math.max(5_000, next.session.expiresAt - Date.now() - refreshAhead), 2 ** 31 - 1);
    timer = setTimeout(() => void refresh(), wait);
  } else {
    sessionStorage.removeItem(storageKey);
  }
  listeners.forEach((l) => l(state));
}

// localExpiry is when the token expires by this machine's clock: its lifetime
// (exp − iat in the token) from now, so a skewed clock on either side cannot
// make the console refresh in a loop or never.
export function localExpiry(accessToken: string, expiresAt: string, now = Date.now()): number {
  try {
    const claims = JSON.parse(atob(accessToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    if (typeof claims.exp === 'number' && typeof claims.iat === 'number' && claims.exp > claims.iat) {
      return now + (claims.exp - claims.iat) * 1000;
    }
  } catch {
    // Not a JWT we can read: trust the server's expiresAt.
  }
  return Date.parse(expiresAt);
}

function fromPayload(p: { accessToken: string; refreshToken: string; expiresAt: string; user: SessionUser }): Session {
  return { accessToken: p.accessToken, refreshToken: p.refreshToken, expiresAt: localExpiry(p.accessToken, p.expiresAt), user: p.user };
}

export const getState = () => state;
export const getSession = () => state.session;

export function subscribe(fn: (s: SessionState) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export async function login(username: string, password: string): Promise<Session> {
  const data = await post(LoginDoc, { input: { username, password, userAgent: navigator.userAgent } });
  const s = fromPayload(data.login);
  set({ session: s, expired: false });
  return s;
}

// refresh rotates the refresh token once, however many callers ask at the same time
// (a second use of a rotated token would end the whole session).
export function refresh(): Promise<Session | null> {
  const token = state.session?.refreshToken ?? sessionStorage.getItem(storageKey);
  if (!token) return Promise.resolve(null);
  inflight ??= post(RefreshDoc, { token })
    .then((d) => {
      const s = fromPayload(d.refreshToken);
      set({ session: s, expired: false });
      return s;
    })
    .catch((e: ApiError) => {
      // Only a refused token ends the session; a network blip keeps it for the next try.
      if (e.networkError) return state.session;
      set({ session: null, expired: state.session !== null });
      return null;
    })
    .finally(() => {
      inflight = undefined;
    });
  return inflight;
}

// accessToken returns a token valid for a while yet, refreshing first if needed.
export async function accessToken(): Promise<string | null> {
  const s = state.session;
  if (s && s.expiresAt - Date.now() > 10_000) return s.accessToken;
  return (await refresh())?.accessToken ?? null;
}

export async function logout(): Promise<void> {
  const token = state.session?.refreshToken;
  set({ session: null, expired: false });
  if (token) await post(LogoutDoc, { token }).catch(() => undefined);
}

// restore signs the tab back in after a reload from its stored refresh token.
export async function restore(): Promise<void> {
  if (sessionStorage.getItem(storageKey)) await refresh();
}

export const isStaff = (role?: Role) => role === 'ANALYST' || role === 'ADMIN';
