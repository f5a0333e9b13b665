// urql with its normalized cache, graphcache, against the gateway, set up as the
// README's "Clients" section says: the schema from schema.graphql, keys for the
// value types, relayPagination over both connections.
// Usage: node src/urql-graphcache.mjs <graphql url> <part> [argument]
//   normalization <contact ids as a JSON array>
//   pagination <page size>
//   errors <"no-monite-token" | "with-tokens">
// Prints what came back and every warning graphcache logged.
import { readFileSync } from "node:fs";
import { Client, fetchExchange, gql } from "@urql/core";
import { cacheExchange } from "@urql/exchange-graphcache";
import { relayPagination } from "@urql/exchange-graphcache/extras";
import { buildSchema, introspectionFromSchema } from "graphql";
import { CREDENTIALS, print, recordingFetch } from "./lib/exchanges.mjs";

const [url, part, argument] = process.argv.slice(2);
const { fetch, exchanges } = recordingFetch();
const warnings = [];
console.warn = (...args) => warnings.push(args.map(String).join(" "));

const schema = introspectionFromSchema(
  buildSchema(readFileSync(new URL("../../schema.graphql", import.meta.url), "utf8")),
);

// Types that are values, with no id of their own: kept inside what holds them.
const VALUES = [
  "ContactConnection",
  "ContactEdge",
  "ContactEvent",
  "ContactVersion",
  "CounterpartAddress",
  "CounterpartConnection",
  "CounterpartEdge",
  "CounterpartIndividual",
  "CounterpartOrganization",
  "CustomField",
  "PageInfo",
  "UserError",
];

function client(headers = CREDENTIALS) {
  return new Client({
    url,
    fetch,
    fetchOptions: { headers },
    exchanges: [
      cacheExchange({
        schema,
        keys: Object.fromEntries(VALUES.map((name) => [name, () => null])),
        resolvers: {
          Query: { contacts: relayPagination(), counterparts: relayPagination() },
        },
      }),
      fetchExchange,
    ],
  });
}

const CONTACTS = gql`
  query UrqlContacts($ids: [ID!]!) {
    contactsByIds(ids: $ids) {
      id
      moneybirdId
      version
      customFields {
        moneybirdId
        name
        value
      }
    }
  }
`;
const VERSIONS = gql`
  query UrqlVersions {
    contactVersions {
      contactId
      version
    }
  }
`;

async function normalization(ids) {
  const urql = client();
  await urql.query(CONTACTS, { ids }).toPromise();
  await urql.query(VERSIONS, {}).toPromise();
  // Read again from the cache alone: what the normalized records give back.
  const cached = await urql.query(CONTACTS, { ids }, { requestPolicy: "cache-only" }).toPromise();
  return { contacts: cached.data.contactsByIds };
}

const CONTACT_PAGES = gql`
  query UrqlContactPages($first: Int, $after: String) {
    contacts(first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          moneybirdId
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;
const COUNTERPART_PAGES = gql`
  query UrqlCounterpartPages($first: Int, $after: String) {
    counterparts(first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          moniteId
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

// Three pages, each after the end of the last: relayPagination gives back the
// pages it holds as one list.
async function paginate(query, field, first) {
  const urql = client();
  let after = null;
  let result;
  for (let page = 0; page < 3; page += 1) {
    result = await urql.query(query, { first, after }).toPromise();
    after = result.data[field].pageInfo.endCursor;
  }
  return {
    pages: result.data[field].edges.map((edge) => edge.node),
    hasNextPage: result.data[field].pageInfo.hasNextPage,
  };
}

async function pagination(first) {
  return {
    contacts: await paginate(CONTACT_PAGES, "contacts", first),
    counterparts: await paginate(COUNTERPART_PAGES, "counterparts", first),
  };
}

const BOTH_UPSTREAMS = gql`
  query UrqlBothUpstreams {
    contacts(first: 3) {
      edges {
        node {
          id
          displayName
        }
      }
    }
    counterparts(first: 3) {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`;

async function errors(how) {
  const headers =
    how === "no-monite-token"
      ? { "x-moneybird-token": CREDENTIALS["x-moneybird-token"] }
      : CREDENTIALS;
  const result = await client(headers).query(BOTH_UPSTREAMS, {}).toPromise();
  return {
    data: result.data ?? null,
    errors: (result.error?.graphQLErrors ?? []).map((error) => ({
      path: error.path,
      code: error.extensions?.code,
      upstream: error.extensions?.upstream,
    })),
  };
}

const parts = {
  normalization: () => normalization(JSON.parse(argument)),
  pagination: () => pagination(Number(argument)),
  errors: () => errors(argument),
};
print({ ...(await parts[part]()), requests: exchanges.length, warnings });
