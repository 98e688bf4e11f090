/**
 * Built by the service at start-up from the deployment's sync rules (server/web/rules-module.ts):
 * the very validate_doc_update CouchDB and the gateway run for a private database, and the
 * schema and messages of the types this app writes.
 */
declare module 'sawa:rules' {
  export type ValidateDocUpdate = (
    newDoc: Record<string, unknown>,
    oldDoc: Record<string, unknown> | null,
    userCtx: { name: string | null; roles: string[]; db?: string | null },
    secObj: Record<string, unknown>,
  ) => void;
  export const validateDocUpdate: ValidateDocUpdate;
  export interface RuleView {
    schema: {
      properties: Record<string, FieldSchema>;
      required: string[];
    };
  }
  export interface FieldSchema {
    type?: string;
    enum?: string[];
    minimum?: number;
    maximum?: number;
    maxLength?: number;
    pattern?: string;
    format?: string;
  }
  export const rules: Record<string, RuleView>;
}
