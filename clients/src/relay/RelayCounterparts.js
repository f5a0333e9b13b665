// Counterparts a page at a time through Relay's @connection: the pages after the
// first come from the pagination query relay-compiler makes of the fragment.
import { graphql } from "relay-runtime";

export const counterparts = graphql`
  fragment RelayCounterparts_query on Query
  @argumentDefinitions(count: { type: "Int", defaultValue: 4 }, cursor: { type: "String" })
  @refetchable(queryName: "RelayCounterpartsPaginationQuery") {
    counterparts(first: $count, after: $cursor)
      @connection(key: "RelayCounterparts_counterparts") {
      edges {
        node {
          id
          moniteId
        }
      }
    }
  }
`;

export const query = graphql`
  query RelayCounterpartsQuery {
    ...RelayCounterparts_query
  }
`;
