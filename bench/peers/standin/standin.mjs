// A fast upstream stand-in for bench/compare.py: Moneybird's synchronization and
// Monite's counterpart endpoints, answering with bodies pre-serialized from the
// sandbox's seed data, so that it costs far less CPU than either gateway.
// Usage: node standin.mjs <port> <data.json>
import http from "node:http";
import { readFileSync } from "node:fs";

const [port, dataFile] = process.argv.slice(2);
const data = JSON.parse(readFileSync(dataFile, "utf8"));
const contactJson = new Map(data.contacts.map((c) => [String(c.id), JSON.stringify(c)]));
const counterpartsPage = new Map();
const contactsOf = new Map(
  data.counterparts.map((c) => [c.id, JSON.stringify({ data: c.contacts })]),
);
const publicCounterparts = data.counterparts.map(({ contacts, ...rest }) => rest);

function send(res, status, body) {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

http
  .createServer((req, res) => {
    const url = new URL(req.url, "http://standin");
    const path = url.pathname;
    if (req.method === "POST" && path.endsWith("/contacts/synchronization.json")) {
      let raw = "";
      req.on("data", (chunk) => (raw += chunk));
      req.on("end", () => {
        // ids arrive as 64-bit JSON integers: read them as text, never as doubles
        const ids = (raw.match(/\d+/g) || []).slice(0, 100);
        const found = ids.map((id) => contactJson.get(id)).filter(Boolean);
        send(res, 200, `[${found.join(",")}]`);
      });
      return;
    }
    const contacts = path.match(/^\/monite\/counterparts\/([^/]+)\/contacts$/);
    if (req.method === "GET" && contacts) {
      send(res, 200, contactsOf.get(contacts[1]) || '{"data":[]}');
      return;
    }
    if (req.method === "GET" && path === "/monite/counterparts") {
      const limit = Math.min(100, Number(url.searchParams.get("limit") || 100));
      const ids = url.searchParams.getAll("id__in");
      const key = `${limit}|${ids.join(",")}`;
      if (!counterpartsPage.has(key)) {
        const rows = ids.length ? publicCounterparts.filter((c) => ids.includes(c.id)) : publicCounterparts;
        const body = { data: rows.slice(0, limit) };
        if (!ids.length && rows.length > limit) body.next_pagination_token = "bmV4dA";
        counterpartsPage.set(key, JSON.stringify(body));
      }
      send(res, 200, counterpartsPage.get(key));
      return;
    }
    send(res, 404, '{"error":"record not found"}');
  })
  .listen(Number(port), "127.0.0.1");
