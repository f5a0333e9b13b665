// The operation of an app built with Relay: relay-compiler persists it into the
// persisted_queries.json the gateway trusts and writes the artifact the app runs.
import { graphql } from "relay-runtime";

export const query = graphql`
  query RelayTrustedContactQuery($id: ID!) {
    contact(id: $id) {
      id
      displayName
    }
  }
`;
