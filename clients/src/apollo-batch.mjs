// Apollo Client 4 with BatchHttpLink against the gateway: operations started
// together go in one HTTP request, a JSON array, and each gets its own result.
// Usage: node src/apollo-batch.mjs <graphql url> <contact ids as a JSON array>
// Reads every contact, then renames the first twice with reads in between.
import { ApolloClient, InMemoryCache, gql } from "@apollo/client";
import { BatchHttpLink } from "@apollo/client/link/batch-http";
import { CREDENTIALS, print, recordingFetch } from "./lib/exchanges.mjs";

const [url, idsJson] = process.argv.slice(2);
const ids = JSON.parse(idsJson);
const { fetch, exchanges } = recordingFetch();

const CONTACT = gql`
  query BatchContact($id: ID!) {
    contact(id: $id) {
      id
      firstname
    }
  }
`;
const RENAME = gql`
  mutation BatchRename($id: ID!, $name: String!) {
    updateContact(id: $id, input: { firstname: $name }) {
      contact {
        id
        firstname
      }
    }
  }
`;

const client = new ApolloClient({
  cache: new InMemoryCache(),
  // The two reads of the same contact are meant to go out, one after each rename.
  queryDeduplication: false,
  link: new BatchHttpLink({ uri: url, fetch, headers: CREDENTIALS, batchInterval: 20 }),
});
const read = (id) =>
  client
    .query({ query: CONTACT, variables: { id }, fetchPolicy: "network-only" })
    .then((result) => result.data.contact);
const rename = (id, name) =>
  client
    .mutate({ mutation: RENAME, variables: { id, name } })
    .then((result) => result.data.updateContact.contact);

const contacts = await Promise.all(ids.map(read));
const [first] = ids;
const sequence = await Promise.all([
  rename(first, "Ada"),
  read(first),
  rename(first, "Grace"),
  read(first),
]);
print({
  contacts,
  sequence: sequence.map((contact) => contact.firstname),
  requests: exchanges.map((exchange) => ({
    method: exchange.method,
    operations: exchange.sent.map((operation) => operation.operationName),
    status: exchange.status,
    contentType: exchange.contentType,
  })),
});
