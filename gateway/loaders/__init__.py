"""Per-request DataLoaders: batch, dedupe, prime, invalidate.

Made fresh for every GraphQL request by `gateway.context`, never at module level,
so that one client's data can never be served to another.
"""
