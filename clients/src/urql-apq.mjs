// urql with its persistedExchange (automatic persisted queries, GET for queries
// within the URL limit) in front of fetchExchange, against the gateway.
// Usage: node src/urql-apq.mjs <graphql url> <contact id>
// Two clients, as two app starts, run the same query.
import { Client, fetchExchange, gql } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";
import { CREDENTIALS, print, recordingFetch } from "./lib/exchanges.mjs";

const [url, contactId] = process.argv.slice(2);
const { fetch, exchanges } = recordingFetch();

const CONTACT = gql`
  query UrqlContact($id: ID!) {
    contact(id: $id) {
      id
      displayName
    }
  }
`;

function client() {
  return new Client({
    url,
    fetch,
    fetchOptions: { headers: CREDENTIALS },
    exchanges: [persistedExchange(), fetchExchange],
  });
}

const results = [];
for (const start of ["first", "second"]) {
  const result = await client().query(CONTACT, { id: contactId }).toPromise();
  results.push({ start, data: result.data ?? null, error: result.error?.message ?? null });
}
print({ results, exchanges });
