// Subscribes once through graphql-ws, the reference graphql-transport-ws
// client: connects to the URL given as the first argument with the access
// token (second argument) in connectionParams, subscribes to alertRaised,
// prints the first alert as JSON and exits 0; any error exits 1.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node subscribe.mjs <ws url> <access token>');
  process.exit(2);
}

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
  lazy: false,
  onNonLazyError: (err) => fail(err),
});

// fail reports an Error, a websocket ErrorEvent or CloseEvent, or a GraphQL error list.
function fail(err) {
  const what = err?.message ?? (err?.code ? `closed ${err.code} ${err.reason}` : JSON.stringify(err));
  console.error('graphql-ws:', what);
  process.exit(1);
}

try {
  const subscription = client.iterate({
    query: 'subscription { alertRaised(minLevel: MEDIUM) { id level user { username } } }',
  });
  for await (const result of subscription) {
    if (result.errors) fail(result.errors);
    console.log('graphql-ws alert:', JSON.stringify(result.data.alertRaised));
    break; // returning from the iterator completes the subscription
  }
  await client.dispose();
  process.exit(0);
} catch (err) {
  fail(err);
}
