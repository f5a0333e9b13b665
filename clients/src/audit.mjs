// graphql-http's GraphQL-over-HTTP server audit against a running gateway.
// Usage: node src/audit.mjs <graphql url>
// Prints one JSON object: the count of passed items per requirement level
// (MUST, SHOULD, MAY) and every item's outcome, with the answer of each that
// did not pass. tests/clients/test_graphql_over_http_audit.py runs it.
import { auditServer } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node src/audit.mjs <graphql url>");
  process.exit(2);
}

const results = await auditServer({ url });
const levels = {};
const items = [];
for (const result of results) {
  const level = result.name.split(" ", 1)[0];
  levels[level] ??= { passed: 0, total: 0 };
  levels[level].total += 1;
  if (result.status === "ok") levels[level].passed += 1;
  items.push({
    id: result.id,
    name: result.name,
    status: result.status,
    ...(result.status === "ok"
      ? {}
      : {
          reason: result.reason,
          responseStatus: result.response.status,
          responseBody: await result.response.text().catch(() => null),
        }),
  });
}
console.log(JSON.stringify({ levels, items }, null, 2));
