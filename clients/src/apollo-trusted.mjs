// Apollo Client 4 against a gateway that runs only trusted documents, from the
// manifest Apollo's generate-persisted-query-manifest wrote for
// trusted/apollo-operations.mjs.
// Usage: node src/apollo-trusted.mjs <graphql url> <manifest path> <contact id>
// The app built with the manifest sends ids alone (persisted query lists), and
// its query and mutation run; an operation it was not built with is refused,
// named by hash or sent as text.
import { readFile } from "node:fs/promises";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { generatePersistedQueryIdsFromManifest } from "@apollo/persisted-query-lists";
import { CREDENTIALS, print, recordingFetch, sha256 } from "./lib/exchanges.mjs";
import { CONTACT, RENAME } from "./trusted/apollo-operations.mjs";

const [url, manifestPath, contactId] = process.argv.slice(2);
const { fetch, exchanges } = recordingFetch();
const http = new HttpLink({ uri: url, fetch, headers: CREDENTIALS });

const UNLISTED = gql`
  query Unlisted {
    contacts(first: 1) {
      edges {
        node {
          id
        }
      }
    }
  }
`;

function client(...links) {
  return new ApolloClient({ cache: new InMemoryCache(), link: ApolloLink.from([...links, http]) });
}

async function outcome(promise) {
  try {
    const result = await promise;
    return { data: result.data ?? null, codes: codes(result.error) };
  } catch (error) {
    return { data: null, codes: codes(error) };
  }
}

function codes(error) {
  return (error?.errors ?? []).map((e) => e.extensions?.code ?? null);
}

const app = client(
  new PersistedQueryLink(
    generatePersistedQueryIdsFromManifest({
      loadManifest: async () => JSON.parse(await readFile(manifestPath, "utf8")),
    }),
  ),
);
const query = await outcome(app.query({ query: CONTACT, variables: { id: contactId } }));
const mutation = await outcome(
  app.mutate({ mutation: RENAME, variables: { id: contactId, name: "Ada" } }),
);
const byHash = await outcome(
  client(new PersistedQueryLink({ sha256 })).query({ query: UNLISTED }),
);
const asText = await outcome(client().query({ query: UNLISTED }));
print({ query, mutation, byHash, asText, exchanges });
