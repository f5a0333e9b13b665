"""Running GraphQL requests: which code runs for which request, and why.

Every request to /graphql takes the same way:

1. `gateway.graphql_http` reads the HTTP request. A browser's GET without a
   query gets the GraphiQL page; a request that carries no readable GraphQL
   request (a body that is not a JSON object, parameters of the wrong type, an
   unsupported media type) is answered there with a 4xx and a GraphQL error.
2. `pipeline.Pipeline.run` takes the GraphQL request: `documents` parses and
   validates the text with the depth, alias and token limits (once per distinct
   text), the operation is chosen, a mutation sent with GET is refused (405),
   the variables are coerced. Any error so far is a request error: no `data`.
3. The operation runs on the executor the settings choose, an
   `execution_context_class` for graphql-core:
   - `executor.PlannedExecutor` (the default): a query the planner covers runs
     from a cached plan (`plan`), compiled once per operation and per values of
     the variables its @skip/@include read; it answers exactly as graphql-core
     would, for less work per request. Mutations (which run serially),
     introspection, abstract types and anything else the planner does not cover
     run on graphql-core's own executor, inherited unchanged.
   - graphql-core's executor as Strawberry configures it
     (GATEWAY_EXECUTOR=graphql-core), for every operation.
4. `error_contract` gives every error its code and masks the unexpected ones;
   `operation_log` writes one line per operation, naming the executor that ran.

There is no other way through: the schema has no Strawberry extensions, so the
limits and the error contract cannot be skipped by a request that takes
another path.
"""
