import { z } from 'zod';

/**
 * Metadata every stored event carries. `hash` and `signature` belong to the audit chain and are
 * filled in by the command handler; the store only keeps them.
 */
export const EventMetadata = z.strictObject({
  /** The run id: every event of one run shares it, across streams and services. */
  correlationId: z.string().min(1).max(200),
  /** The id of the event or command that caused this one. */
  causationId: z.string().min(1).max(200).optional(),
  /** Who caused it: `user:<id>`, `system:<component>`, `approver:<name>`. */
  actor: z.string().min(1).max(200),
  /** Version of the event's data schema it was written with; upcasters lift old ones. */
  schemaVersion: z.number().int().positive(),
  /** SHA-256 hex of the hash chain (see DESIGN.md "Audit integrity"). */
  hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** Server signature over an approval decision, base64 (Ed25519). */
  signature: z.string().max(200).optional(),
  /** Version of the approval policy a signed decision was taken under. */
  policyVersion: z.string().max(100).optional(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;
