// Relay against the gateway, from the artifacts relay-compiler wrote for relay/:
// a contact's @refetchable fragment refetched through `node(id:)` after the
// contact changed in Moneybird, and counterparts paged through @connection.
// Usage: node src/relay-refetch.mjs <graphql url> <artifact directory>
//          <contact's Moneybird id> <the contact's URL in the Moneybird sandbox>
import { pathToFileURL } from "node:url";
import RelayRuntime from "relay-runtime";
import { CREDENTIALS, print, recordingFetch } from "./lib/exchanges.mjs";

const {
  Environment,
  Network,
  RecordSource,
  Store,
  createOperationDescriptor,
  fetchQuery,
  getSelector,
} = RelayRuntime;
const [url, artifacts, contactId, moneybirdContactUrl] = process.argv.slice(2);
const { fetch, exchanges } = recordingFetch();

async function artifact(name) {
  const module = await import(pathToFileURL(`${artifacts}/${name}.graphql.js`).href);
  return module.default;
}

const network = Network.create(async (operation, variables) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { ...CREDENTIALS, "content-type": "application/json" },
    body: JSON.stringify({ query: operation.text, variables }),
  });
  return response.json();
});
const environment = new Environment({ network, store: new Store(new RecordSource()) });

// What a component given `reference` would render of `fragment`.
function read(fragment, reference) {
  return environment.lookup(getSelector(fragment, reference)).data;
}

// A contact as read, with its notes as the references Relay hands on.
function contactRead({ id, moneybirdId, displayName, city, customFields, notes }) {
  return { id, moneybirdId, displayName, city, customFields, notes: notes.map((note) => note.__id) };
}

async function refetch() {
  const query = await artifact("RelayContactQuery");
  const refetchQuery = await artifact("RelayContactRefetchQuery");
  const fragment = await artifact("RelayContact_contact");
  await fetchQuery(environment, query, { id: contactId }).toPromise();
  const root = environment.lookup(createOperationDescriptor(query, { id: contactId }).fragment);
  const reference = root.data.contact;
  const before = read(fragment, reference);
  // The contact changes in Moneybird, not through the gateway.
  const changed = await globalThis.fetch(moneybirdContactUrl, {
    method: "PATCH",
    headers: { authorization: "Bearer someone-else", "content-type": "application/json" },
    body: JSON.stringify({ contact: { city: "Refetched" } }),
  });
  if (!changed.ok) {
    throw new Error(`the sandbox refused the change: ${changed.status} ${await changed.text()}`);
  }
  await fetchQuery(environment, refetchQuery, { id: before.id }).toPromise();
  const after = read(fragment, reference);
  const source = environment.getStore().getSource();
  const records = source.getRecordIDs().map((id) => [id, source.get(id).__typename]);
  return {
    before: contactRead(before),
    after: contactRead(after),
    refetchText: exchanges.at(-1).sent.query,
    // Relay keys its records by id alone: each id must be one object's.
    records: Object.fromEntries(records.filter(([id]) => !id.startsWith("client:"))),
  };
}

async function pages() {
  const query = await artifact("RelayCounterpartsQuery");
  const paginationQuery = await artifact("RelayCounterpartsPaginationQuery");
  const fragment = await artifact("RelayCounterparts_query");
  await fetchQuery(environment, query, {}).toPromise();
  const reference = environment.lookup(createOperationDescriptor(query, {}).fragment).data;
  for (let page = 1; page < 3; page += 1) {
    const { endCursor } = read(fragment, reference).counterparts.pageInfo;
    await fetchQuery(environment, paginationQuery, { count: 4, cursor: endCursor }).toPromise();
  }
  const connection = read(fragment, reference).counterparts;
  return {
    counterparts: connection.edges.map((edge) => edge.node.moniteId),
    hasNextPage: connection.pageInfo.hasNextPage,
  };
}

print({ ...(await refetch()), ...(await pages()), requests: exchanges.length });
