// Relay against a gateway that runs only trusted documents, from the
// persisted_queries.json relay-compiler wrote for trusted/relay/.
// Usage: node src/relay-trusted.mjs <graphql url> <artifact directory> <contact id>
// The network layer sends `doc_id` and the variables, as Relay's persisted
// queries guide has it: the artifact carries the id and no text.
import { pathToFileURL } from "node:url";
import RelayRuntime from "relay-runtime";
import { CREDENTIALS, print, recordingFetch } from "./lib/exchanges.mjs";

const { Environment, Network, RecordSource, Store, fetchQuery } = RelayRuntime;
const [url, artifacts, contactId] = process.argv.slice(2);
const { fetch, exchanges } = recordingFetch();

const { default: query } = await import(
  pathToFileURL(`${artifacts}/RelayTrustedContactQuery.graphql.js`).href
);

const network = Network.create(async (operation, variables) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { ...CREDENTIALS, "content-type": "application/json" },
    body: JSON.stringify({ doc_id: operation.id, variables }),
  });
  return response.json();
});
const environment = new Environment({ network, store: new Store(new RecordSource()) });

let outcome;
try {
  outcome = { data: await fetchQuery(environment, query, { id: contactId }).toPromise() };
} catch (error) {
  outcome = { data: null, codes: (error.source?.errors ?? []).map((e) => e.extensions?.code) };
}
print({ id: query.params.id, text: query.params.text, ...outcome, exchanges });
