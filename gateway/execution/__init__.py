"""GraphQL execution from cached query plans."""
