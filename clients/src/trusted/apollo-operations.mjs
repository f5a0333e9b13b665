// The operations of an app built with Apollo Client: Apollo's
// generate-persisted-query-manifest lists them in the manifest the gateway trusts.
import { gql } from "@apollo/client";

export const CONTACT = gql`
  query TrustedContact($id: ID!) {
    contact(id: $id) {
      id
      displayName
    }
  }
`;

export const RENAME = gql`
  mutation TrustedRename($id: ID!, $name: String!) {
    updateContact(id: $id, input: { firstname: $name }) {
      contact {
        id
        firstname
      }
    }
  }
`;
