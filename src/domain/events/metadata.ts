import { z } from 'zod';

/**
 * Metadata every stored event carries. `hash`, `signature` and `seal` belong to the audit chain:
 * the store's codec computes the hash and calls the appender's signer where the previous hash is known.
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
  /** Server signature over an approval decision and its place in the chain, base64 (Ed25519). */
  signature: z.string().max(200).optional(),
  /** Server signature over the stream's head and length, on the last event of an append that leaves a run finished. */
  seal: z.string().max(200).optional(),
  /** Fingerprint of the public key that made `signature` / `seal` (SHA-256 hex of its SPKI DER). */
  keyId: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** When the server signed (ISO-8601): covered by the signature. */
  signedAt: z.string().max(40).optional(),
  /** The Gatehouse instance whose engine decided the event (GATEHOUSE_INSTANCE_ID), when several share a store. */
  instance: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
  /** Version of the approval policy a signed decision was taken under. */
  policyVersion: z.string().max(100).optional(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;
