// The urql client: document cache, bearer auth with background refresh,
// automatic persisted queries (the server keeps an APQ cache), and the
// websocket for alertRaised.
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { authExchange } from '@urql/exchange-auth';
import { persistedExchange } from '@urql/exchange-persisted';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { accessToken, getSession, refresh } from './session';

type Listener = () => void;

export type Api = { client: Client; ws: WsClient; onConnected: (fn: Listener) => () => void };

export function makeApi(): Api {
  const connected = new Set<Listener>();
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = createWsClient({
    url: `${scheme}//${location.host}/graphql`,
    lazy: true,
    retryAttempts: Number.MAX_SAFE_INTEGER,
    shouldRetry: () => true,
    retryWait: async (retries) => new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** retries, 10_000))),
    connectionParams: async () => {
      const token = await accessToken();
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
    on: { connected: () => connected.forEach((fn) => fn()) },
  });

  const client = new Client({
    url: '/graphql',
    requestPolicy: 'cache-and-network',
    exchanges: [
      cacheExchange,
      authExchange(async (utils) => ({
        addAuthToOperation(op) {
          const s = getSession();
          return s ? utils.appendHeaders(op, { Authorization: `Bearer ${s.accessToken}` }) : op;
        },
        willAuthError() {
          const s = getSession();
          return !!s && s.expiresAt - Date.now() < 10_000;
        },
        didAuthError(error) {
          return error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
        },
        async refreshAuth() {
          await refresh();
        },
      })),
      persistedExchange({ preferGetForPersistedQueries: false }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
        },
      }),
    ],
  });
  return {
    client,
    ws,
    onConnected(fn) {
      connected.add(fn);
      return () => connected.delete(fn);
    },
  };
}
