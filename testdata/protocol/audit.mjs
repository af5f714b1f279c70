// Runs graphql-http's GraphQL-over-HTTP server audit against the URL given as
// the first argument: prints one count line, then every result that is not
// ok with its reason, and exits 1 unless every audit passed.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

const results = await auditServer({ url });
const count = (status) => results.filter((r) => r.status === status).length;
console.log(
  `graphql-http audit: ${count('ok')} ok, ${count('notice')} notice, ${count('warn')} warn, ${count('error')} error`,
);
for (const r of results.filter((r) => r.status !== 'ok')) {
  let body = '';
  try {
    body = await r.response.text();
  } catch {
    // the audit may have read the body already
  }
  console.log(`${r.status} ${r.id} ${r.name}: ${r.reason} (HTTP ${r.response.status} ${body.slice(0, 300)})`);
}
process.exit(results.every((r) => r.status === 'ok') ? 0 : 1);
