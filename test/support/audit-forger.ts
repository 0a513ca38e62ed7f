import { canonicalJson } from '../../src/domain/audit/canonical-json.js';
import { contentHash, eventContentHash, eventHash, GENESIS_HASH, SIGNED_TYPES, signedDecision } from '../../src/domain/audit/chain.js';
import type { AuditSigner } from '../../src/domain/ports/audit-signer.js';
import { parseExport } from '../../src/orchestrator/audit-export.js';

/** The forger's work: change the grant's justification, re-sign and re-hash with their key, and swap the header key. */
export function forgeExport(text: string, attacker: AuditSigner, options: { claimKeyId?: string } = {}): string {
  const { header, events } = parseExport(text);
  const lines = text.trim().split('\n').slice(1).map((l) => JSON.parse(l) as Record<string, any>);
  const requests = new Map<string, unknown>();
  let previous = GENESIS_HASH;
  const forged = events.map((e, i) => {
    const data = e.type === 'ApprovalGranted' ? { ...(e.data as object), justification: 'approved by the CISO' } : (e.data as Record<string, unknown>);
    if (e.type === 'ApprovalRequested') requests.set(String((data as { approvalId: string }).approvalId), (data as { input: unknown }).input);
    const { hash: _h, signature, seal, ...meta } = e.metadata as Record<string, unknown>;
    const keyId = options.claimKeyId ?? attacker.keyId;
    if (signature !== undefined || seal !== undefined) meta.keyId = keyId;
    const place = { previousHash: previous, contentHash: eventContentHash(e.type, data, meta), keyId, at: String(meta.signedAt) };
    const signed: Record<string, unknown> = { ...meta };
    if (SIGNED_TYPES.has(e.type)) signed.signature = attacker.sign(canonicalJson(signedDecision(e.type, data, contentHash(requests.get(String(data.approvalId)) ?? null), String(meta.policyVersion), place)));
    if (seal !== undefined) signed.seal = attacker.sign(canonicalJson({ kind: 'seal', ...place, count: i + 1 }));
    const hash = eventHash(previous, e.type, data, signed);
    previous = hash;
    return JSON.stringify({ ...lines[i], data, metadata: { ...signed, hash } });
  });
  return `${[JSON.stringify({ ...header, publicKey: attacker.publicKeyPem }), ...forged].join('\n')}\n`;
}

