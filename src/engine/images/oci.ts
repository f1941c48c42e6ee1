/** OCI wire types live in the API layer; the engine re-exports them. */
export * from '../../api/types/oci';
