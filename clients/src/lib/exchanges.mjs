// A fetch that records what a client library sends and what comes back, so that
// the tests can check the protocol on the wire, not only the data.

export const CREDENTIALS = {
  "x-moneybird-token": "mb-test-token",
  "x-monite-token": "monite-test-token",
};

export function recordingFetch() {
  const exchanges = [];
  async function fetchAndRecord(input, init = {}) {
    const url = new URL(typeof input === "string" ? input : input.url);
    const method = (init.method ?? "GET").toUpperCase();
    const sent = method === "GET" ? fromSearchParams(url.searchParams) : JSON.parse(init.body);
    const response = await fetch(input, init);
    const text = await response.clone().text();
    exchanges.push({
      method,
      accept: new Headers(init.headers).get("accept"),
      sent,
      status: response.status,
      contentType: response.headers.get("content-type"),
      cacheControl: response.headers.get("cache-control"),
      body: text ? JSON.parse(text) : null,
    });
    return response;
  }
  return { fetch: fetchAndRecord, exchanges };
}

function fromSearchParams(params) {
  const sent = {};
  for (const [name, value] of params) {
    sent[name] = ["variables", "extensions"].includes(name) ? JSON.parse(value) : value;
  }
  return sent;
}

// Node's own SHA-256, as the persisted query links ask the application to supply.
export async function sha256(text) {
  const { createHash } = await import("node:crypto");
  return createHash("sha256").update(text).digest("hex");
}

export function print(value) {
  console.log(JSON.stringify(value, null, 2));
}
