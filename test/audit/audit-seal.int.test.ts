import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadOrCreateAuditSigner } from '../../src/adapters/audit/ed25519-keys.js';
import { type ChainEvent, verifyStream } from '../../src/domain/audit/verify.js';
import { defineTool, ToolError } from '../../src/orchestrator/tools/tool.js';
import { alice, bob, engineHarness } from '../support/engine-harness.js';
import { tempDir } from '../support/temp.js';

describe('seals across a resumed run', () => {
  it('RunFailed is sealed, RunResumed follows it, the final RunCompleted is sealed again; both seals verify', async () => {
    let calls = 0;
    const once = defineTool({
      name: 'once', description: 'fails the first time', input: z.record(z.string(), z.unknown()), domain: 'ops', action: { category: 'ops', operation: 'read' },
      idempotent: true, timeoutMs: 2_000, handler: () => { calls++; if (calls === 1) throw new ToolError('USER', 'not yet'); return { ok: true }; },
    });
    const keys = tempDir('gh-seal-keys-');
    const signer = loadOrCreateAuditSigner({ dataDir: keys.dir });
    const h = await engineHarness([once], { signer });
    try {
      await h.api.startRun({ runId: 'res', goal: 'x', profile: 'technical', steps: [{ id: 's', tool: 'once', input: {}, domain: 'ops' }] }, alice);
      expect((await h.settled('res')).status).toBe('FAILED');
      await h.api.resumeRun('res', bob, 'try again');
      expect((await h.engine.waitFor('res', (s) => s.status === 'SUCCEEDED')).status).toBe('SUCCEEDED');
      const events: ChainEvent[] = (await h.store.readStream('run-res')).map((e) => ({ revision: e.revision, type: e.type, data: e.data, metadata: e.metadata as unknown as Record<string, unknown> }));
      expect(events.filter((e) => e.metadata.seal).map((e) => e.type)).toEqual(['RunFailed', 'RunCompleted']);
      expect(verifyStream(events, { publicKeyPem: signer.publicKeyPem })).toMatchObject({ ok: true, sealed: true, signaturesChecked: 2 });
      // After the failure, events follow the first seal: cut just after RunResumed, the stream is not sealed.
      const resumedAt = events.findIndex((e) => e.type === 'RunResumed');
      expect(verifyStream(events.slice(0, resumedAt + 1), { publicKeyPem: signer.publicKeyPem }).finding).toMatchObject({ kind: 'unsealed', reason: expect.stringContaining('follow the last seal') });
      // The documented limit: cut back to the sealed RunFailed, the prefix was once a genuinely sealed stream.
      expect(verifyStream(events.slice(0, resumedAt), { publicKeyPem: signer.publicKeyPem })).toMatchObject({ ok: true });
    } finally {
      await h.close();
      keys.remove();
    }
  });
});
