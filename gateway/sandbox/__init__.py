"""The embedded upstream: Moneybird's contacts API and Monite's counterparts API,
in memory, faithful to the official specs (status codes and error bodies
included), seeded with demo data, with a request log and fault injection.
Moneybird's rate limit (off unless set) and its webhooks, pushed over HTTP as
Moneybird pushes them, are there too.

Frontend teams develop against it offline; tests and benchmarks drive it.
Entry points: `gateway.sandbox.app.create_sandbox_app` and
`gateway.sandbox.state.SandboxState`.
"""
