// Apollo Client 4 with InMemoryCache against the gateway, set up as the README's
// "Clients" section says: what the normalized cache keeps, pages merged by
// relayStylePagination, and one upstream failing under errorPolicy "all".
// Usage: node src/apollo-cache.mjs <graphql url> <part> [argument]
//   normalization <contact ids as a JSON array>
//   pagination <page size>
//   errors <"no-monite-token" | "with-tokens">
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { relayStylePagination } from "@apollo/client/utilities";
import { CREDENTIALS, print, recordingFetch } from "./lib/exchanges.mjs";

const [url, part, argument] = process.argv.slice(2);
const { fetch, exchanges } = recordingFetch();

// The README's setup: the default keys (__typename and id) serve, since every
// `id` is its object's alone; the two connections are merged page by page, one
// list per combination of their filters.
export function cache() {
  return new InMemoryCache({
    typePolicies: {
      Query: {
        fields: {
          contacts: relayStylePagination(["query", "filter", "includeArchived"]),
          counterparts: relayStylePagination(["name", "isCustomer", "isVendor"]),
        },
      },
    },
  });
}

function client(headers = CREDENTIALS) {
  return new ApolloClient({ cache: cache(), link: new HttpLink({ uri: url, fetch, headers }) });
}

const CONTACTS = gql`
  query CacheContacts($ids: [ID!]!) {
    contactsByIds(ids: $ids) {
      id
      moneybirdId
      displayName
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
  query CacheVersions {
    contactVersions {
      contactId
      moneybirdId
      version
    }
  }
`;
const CACHED_CONTACT = gql`
  fragment CachedContact on Contact {
    id
    moneybirdId
    displayName
    version
    customFields {
      moneybirdId
      name
      value
    }
  }
`;

async function normalization(ids) {
  const apollo = client();
  const { data } = await apollo.query({ query: CONTACTS, variables: { ids } });
  // The versions list, read after the contacts, writes into the same cache.
  await apollo.query({ query: VERSIONS });
  const contacts = data.contactsByIds.map((contact) =>
    apollo.cache.readFragment({
      id: apollo.cache.identify(contact),
      fragment: CACHED_CONTACT,
    }),
  );
  const keys = Object.keys(apollo.cache.extract());
  return { contacts, typesKept: [...new Set(keys.map((key) => key.split(":")[0]))].sort() };
}

const CONTACT_PAGES = gql`
  query CacheContactPages($first: Int, $after: String) {
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
  query CacheCounterpartPages($first: Int, $after: String) {
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

// Three pages through fetchMore, each after the end of what the cache holds;
// then, for one connection, a fetchMore after an edge in the middle, which
// relayStylePagination answers by keeping the edges up to it and the page after it.
async function paginate(query, field, first, middle) {
  const apollo = client();
  const watched = apollo.watchQuery({ query, variables: { first } });
  let subscription;
  let result = await new Promise((resolve, reject) => {
    subscription = watched.subscribe({
      next: (next) => next.dataState === "complete" && resolve(next),
      error: reject,
    });
  });
  for (let page = 1; page < 3; page += 1) {
    const { endCursor } = result.data[field].pageInfo;
    await watched.fetchMore({ variables: { after: endCursor } });
    result = { data: apollo.readQuery({ query, variables: { first } }) };
  }
  const pages = result.data[field].edges.map((edge) => edge.node);
  let afterMiddle = null;
  if (middle !== undefined) {
    const cursor = result.data[field].edges[middle].cursor;
    await watched.fetchMore({ variables: { after: cursor } });
    afterMiddle = apollo
      .readQuery({ query, variables: { first } })
      [field].edges.map((edge) => edge.node);
  }
  subscription.unsubscribe();
  return { pages, afterMiddle, hasNextPage: result.data[field].pageInfo.hasNextPage };
}

async function pagination(first) {
  return {
    contacts: await paginate(CONTACT_PAGES, "contacts", first),
    counterparts: await paginate(COUNTERPART_PAGES, "counterparts", first, first + 1),
  };
}

const BOTH_UPSTREAMS = gql`
  query CacheBothUpstreams {
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
    how === "no-monite-token" ? { "x-moneybird-token": CREDENTIALS["x-moneybird-token"] } : CREDENTIALS;
  const result = await client(headers).query({ query: BOTH_UPSTREAMS, errorPolicy: "all" });
  return {
    data: result.data ?? null,
    errors: (result.error?.errors ?? []).map((error) => ({
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
print({ ...(await parts[part]()), requests: exchanges.length });
