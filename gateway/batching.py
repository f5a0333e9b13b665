"""A batch: several operations in one HTTP request, as Apollo's BatchHttpLink sends
them (a JSON array of request objects, answered by an array of results in the
same order).

The operations share the request's context: its loaders, so that five contact
lookups in one batch cost one upstream call as they would in one operation, and
its upstream deadline. Queries run concurrently; a mutation waits for the
operations before it and the operations after it wait for the mutation, so
mutations run in the order the batch lists them and the queries around them
see their effects.
"""

from __future__ import annotations

import asyncio

from graphql import OperationType

from gateway.context import RequestContext
from gateway.execution.pipeline import GraphQLRequest, GraphQLResult, Pipeline


async def run_batch(
    pipeline: Pipeline, requests: list[GraphQLRequest], context: RequestContext
) -> list[GraphQLResult]:
    """The results of a batch's operations, in the order of `requests`."""
    results: list[GraphQLResult | None] = [None] * len(requests)
    prepared = [await pipeline.prepare(request, context) for request in requests]
    concurrent: list[int] = []

    async def run(index: int) -> GraphQLResult:
        return await pipeline.run(requests[index], context, prepared=prepared[index])

    async def run_concurrent() -> None:
        outcomes = await asyncio.gather(*(run(index) for index in concurrent))
        for index, outcome in zip(concurrent, outcomes, strict=True):
            results[index] = outcome
        concurrent.clear()

    for index in range(len(requests)):
        if prepared[index].operation_type is OperationType.MUTATION:
            await run_concurrent()
            results[index] = await run(index)
        else:
            concurrent.append(index)
    await run_concurrent()
    return [result for result in results if result is not None]
