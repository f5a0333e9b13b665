// A contact's fragment that Relay refetches through `node(id:)`, and the query
// that reads it first. relay-compiler compiles them against schema.graphql.
import { graphql } from "relay-runtime";

export const contact = graphql`
  fragment RelayContact_contact on Contact
  @refetchable(queryName: "RelayContactRefetchQuery") {
    id
    moneybirdId
    displayName
    city
    customFields {
      moneybirdId
      value
    }
    notes {
      ...RelayContact_node
    }
  }
`;

export const node = graphql`
  fragment RelayContact_node on Node {
    __typename
    id
  }
`;

export const query = graphql`
  query RelayContactQuery($id: ID!) {
    contact(id: $id) {
      ...RelayContact_contact
    }
    contactVersions {
      contactId
      version
    }
  }
`;
