// GraphiQL from this server's own files: no CDN, works offline.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/style.css';
import './playground.css';

const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
const fetcher = createGraphiQLFetcher({ url: '/graphql', subscriptionUrl: `${scheme}//${location.host}/graphql` });

// Signing in is a mutation like any other: its accessToken goes in Headers.
const defaultQuery = `# SmartFinance Risk Graph. To act as someone, run
#   mutation { login(input: {username: "analyst", password: "…"}) { accessToken } }
# and put {"Authorization": "Bearer <accessToken>"} in Headers below.
query Ping {
  __typename
}
`;

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} />
  </StrictMode>,
);
