// Apollo Client 4 with its PersistedQueryLink (automatic persisted queries) in
// front of HttpLink, against the gateway.
// Usage: node src/apollo-apq.mjs <graphql url> <contact id> <post|get> [accept]
// Two clients, as two app starts, run the same query: the first finds the hash
// unknown and registers the text; the second sends the hash alone. `accept`
// replaces the Accept header Apollo Client sends (graphql-response+json first).
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { CREDENTIALS, print, recordingFetch, sha256 } from "./lib/exchanges.mjs";

const [url, contactId, method, accept] = process.argv.slice(2);
const { fetch, exchanges } = recordingFetch();

const CONTACT = gql`
  query ApqContact($id: ID!) {
    contact(id: $id) {
      id
      displayName
    }
  }
`;

function client() {
  return new ApolloClient({
    cache: new InMemoryCache(),
    link: ApolloLink.from([
      new PersistedQueryLink({ sha256, useGETForHashedQueries: method === "get" }),
      new HttpLink({ uri: url, fetch, headers: { ...CREDENTIALS, ...(accept ? { accept } : {}) } }),
    ]),
  });
}

const results = [];
for (const start of ["first", "second"]) {
  const result = await client().query({ query: CONTACT, variables: { id: contactId } });
  results.push({ start, data: result.data, error: result.error?.message ?? null });
}
print({ results, exchanges });
