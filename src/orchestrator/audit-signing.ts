import { canonicalJson } from '../domain/audit/canonical-json.js';
import { contentHash, eventContentHash, type Seal, SIGNED_TYPES, signedDecision } from '../domain/audit/chain.js';
import type { RunEvent } from '../domain/events/index.js';
import type { AuditSigner } from '../domain/ports/audit-signer.js';
import type { ChainSigner } from '../domain/ports/event-store.js';
import { type RunState, TERMINAL_RUN } from '../domain/run/state.js';

/** How one append is signed: metadata the engine adds to each event, and the store's chain hook. */
export interface AppendSigning {
  /** Fields for `events[index]`'s metadata (key id, time, policy version), covered by its hash. */
  fields(event: RunEvent, index: number): Record<string, string> | undefined;
  /** Called by the store where each event's previous hash is known. */
  sign: ChainSigner;
}

/**
 * Signs one append of a run: every approval decision (over the decision, the input it lets run —
 * an approver's edit, else what the request showed — and its place in the chain), and, when the append leaves the run finished, a seal on its
 * last event over the stream's head and length, so a cut or a removed event no longer matches.
 */
export function appendSigning(signer: AuditSigner, policyVersion: string, state: RunState, events: readonly RunEvent[], now: string): AppendSigning {
  const sealAt = TERMINAL_RUN.has(state.status) ? events.length - 1 : -1;
  const signs = (type: string, index: number) => SIGNED_TYPES.has(type) || index === sealAt;
  return {
    fields(event, index) {
      if (!signs(event.type, index)) return undefined;
      return { keyId: signer.keyId, signedAt: now, ...(SIGNED_TYPES.has(event.type) ? { policyVersion } : {}) };
    },
    sign(link) {
      if (!signs(link.type, link.index)) return undefined;
      const place = { previousHash: link.previousHash, contentHash: eventContentHash(link.type, link.data, link.metadata, link.canonicalData), keyId: signer.keyId, at: now };
      let signature: string | undefined;
      if (SIGNED_TYPES.has(link.type)) {
        const data = link.data as Record<string, unknown>;
        const gate = state.steps.find((s) => s.gate?.approvalId === data.approvalId)?.gate;
        signature = signer.sign(canonicalJson(signedDecision(link.type, data, contentHash(data.editedInput ?? gate?.request.input ?? null), policyVersion, place)));
      }
      const seal: Seal | undefined = link.index === sealAt ? { kind: 'seal', ...place, count: link.revision + 1 } : undefined;
      return { ...(signature ? { signature } : {}), ...(seal ? { seal: signer.sign(canonicalJson(seal)) } : {}) };
    },
  };
}
