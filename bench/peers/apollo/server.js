// The peer: Apollo Server 5 + @apollo/datasource-rest + dataloader, batching as the
// gateway does (synchronization POSTs of up to 100 ids; one contacts call per
// counterpart), serving the same three queries with the same field names.
// Usage: MONEYBIRD_BASE_URL=... MONITE_BASE_URL=... node server.js <port>
import cluster from "node:cluster";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { RESTDataSource } from "@apollo/datasource-rest";
import DataLoader from "dataloader";

const port = Number(process.argv[2] || 4000);
const workers = Number(process.env.PEER_WORKERS || 1);

const typeDefs = `#graphql
  type Note { note: String }
  type ContactEvent { action: String! }
  type Contact { id: ID! displayName: String! email: String city: String notes: [Note!]! events: [ContactEvent!]! }
  type CounterpartContact { id: ID! email: String firstName: String lastName: String }
  type Counterpart { id: ID! name: String! defaultContact: CounterpartContact }
  type CounterpartEdge { cursor: String! node: Counterpart! }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type CounterpartConnection { edges: [CounterpartEdge!]! pageInfo: PageInfo! }
  type Query {
    contact(id: ID!): Contact
    contactsByIds(ids: [ID!]!): [Contact]!
    counterparts(first: Int, after: String): CounterpartConnection!
  }
`;

class Moneybird extends RESTDataSource {
  constructor(options) {
    super(options);
    this.baseURL = process.env.MONEYBIRD_BASE_URL.replace(/\/?$/, "/");
    this.token = options.token;
    this.byId = new DataLoader(
      async (ids) => {
        // ids go out as exact JSON integers, as Moneybird documents
        const body = `{"ids":[${ids.join(",")}]}`;
        const contacts = await this.post("123456789/contacts/synchronization.json", {
          body,
          headers: { "content-type": "application/json" },
        });
        const found = new Map(contacts.map((c) => [String(c.id), c]));
        return ids.map((id) => found.get(String(id)) || null);
      },
      { maxBatchSize: 100 },
    );
  }
  willSendRequest(_path, request) {
    request.headers.authorization = `Bearer ${this.token}`;
  }
}

class Monite extends RESTDataSource {
  constructor(options) {
    super(options);
    this.baseURL = process.env.MONITE_BASE_URL.replace(/\/?$/, "/");
    this.token = options.token;
    this.entity = options.entity;
    this.contactsOf = new DataLoader((ids) =>
      Promise.all(ids.map((id) => this.get(`counterparts/${encodeURIComponent(id)}/contacts`).then((r) => r.data))),
    );
  }
  willSendRequest(_path, request) {
    request.headers.authorization = `Bearer ${this.token}`;
    request.headers["x-monite-version"] = "2024-01-31";
    request.headers["x-monite-entity-id"] = this.entity;
  }
}

const displayName = (c) =>
  (c.company_name || "").trim() || [c.firstname, c.lastname].filter(Boolean).join(" ") || c.customer_id || String(c.id);

const resolvers = {
  Query: {
    contact: (_, { id }, { moneybird }) => moneybird.byId.load(id),
    contactsByIds: (_, { ids }, { moneybird }) => moneybird.byId.loadMany(ids),
    counterparts: async (_, { first = 20, after }, { monite }) => {
      const params = { limit: String(first) };
      if (after) params.pagination_token = after;
      const page = await monite.get("counterparts", { params });
      const cursor = page.next_pagination_token || "";
      return {
        edges: page.data.map((node) => ({ cursor, node })),
        pageInfo: { hasNextPage: Boolean(page.next_pagination_token), endCursor: cursor || null },
      };
    },
  },
  Contact: {
    // A global id, as the gateway answers: `Contact:<id>` in unpadded base64url.
    id: (c) => Buffer.from(`Contact:${c.id}`).toString("base64url"),
    displayName,
    email: (c) => c.email || null,
    city: (c) => c.city || null,
    notes: (c) => c.notes || [],
    events: (c) => c.events || [],
  },
  Counterpart: {
    name: (c) =>
      c.organization ? c.organization.legal_name : [c.individual?.first_name, c.individual?.last_name].filter(Boolean).join(" "),
    defaultContact: async (c, _, { monite }) =>
      (await monite.contactsOf.load(c.id)).find((contact) => contact.is_default) || null,
  },
  CounterpartContact: {
    firstName: (c) => c.first_name,
    lastName: (c) => c.last_name,
  },
};

async function start() {
  const server = new ApolloServer({ typeDefs, resolvers });
  await startStandaloneServer(server, {
    listen: { port, host: "127.0.0.1" },
    context: async ({ req }) => {
      const cache = server.cache;
      return {
        moneybird: new Moneybird({ cache, token: req.headers["x-moneybird-token"] }),
        monite: new Monite({
          cache,
          token: req.headers["x-monite-token"],
          entity: req.headers["x-monite-entity-id"] || process.env.MONITE_ENTITY_ID,
        }),
      };
    },
  });
}

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  start();
}
