/**
 * The audit chain's pieces, in CPU µs per 5-step run: one real run's appends (as the engine hands
 * them to the store's port) are recorded, then replayed through the codec's `prepareAppend` plain,
 * chained, and chained and sealed, beside each piece alone over the same events. CPU time of this
 * thread (process.cpuUsage), medians of interleaved rounds: less moved by other processes than
 * wall time. It answers what a chain v2 (one hash per append) could save before anyone builds it.
 */
import { hash, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { EventCodec } from '../../src/adapters/eventstore/shared/codec.js';
import { createMemoryEventStore } from '../../src/adapters/eventstore/memory/memory-event-store.js';
import { canonicalJson, canonicalJsonWithout } from '../../src/domain/audit/canonical-json.js';
import { GENESIS_HASH } from '../../src/domain/audit/chain.js';
import type { AuditSigner } from '../../src/domain/ports/audit-signer.js';
import type { EventStore, EventToAppend } from '../../src/domain/ports/event-store.js';
import type { RunEvent } from '../../src/domain/events/index.js';
import { TERMINAL_RUN } from '../../src/domain/run/state.js';
import { Orchestrator } from '../../src/orchestrator/api.js';
import { appendSigning } from '../../src/orchestrator/audit-signing.js';
import { RunEngine } from '../../src/orchestrator/engine.js';
import { type ToolDefinition, ToolRegistry } from '../../src/orchestrator/tools/tool.js';

/** One row: a piece and its median CPU µs per run. */
export interface ChainPiece {
  readonly piece: string;
  readonly cpuUsPerRun: number;
  readonly allRounds: readonly number[];
}

/** What a run's steps look like (the bench's own plan) and the signer the server would use. */
export interface ChainPiecesInput {
  readonly tool: ToolDefinition<z.ZodType>;
  readonly steps: readonly { id: string; tool: string; input: Record<string, unknown>; domain: string; dependsOn: string[] }[];
  readonly signer: AuditSigner;
  readonly rounds?: number;
  readonly repeat?: number;
}

/** Records one real run's appends, then measures each piece of the chain over them. */
export async function measureChainPieces(input: ChainPiecesInput): Promise<ChainPiece[]> {
  const appends = await recordOneRun(input);
  const events = appends.flat();
  const codec = new EventCodec();
  const stream = `run-${randomUUID()}`;
  const now = new Date(0).toISOString();
  // The seal is made where an append leaves the run finished: only the last append's state is terminal.
  const finished = { status: 'SUCCEEDED', steps: [] } as unknown as Parameters<typeof appendSigning>[2];
  const running = { status: 'RUNNING', steps: [] } as unknown as Parameters<typeof appendSigning>[2];
  const replay = (mode: 'plain' | 'chained' | 'sealed') => {
    let revision = -1;
    let previousHash = GENESIS_HASH;
    appends.forEach((events, i) => {
      const expected = revision < 0 ? ('no_stream' as const) : revision;
      if (mode === 'plain') {
        codec.prepareAppend(stream, events, expected);
      } else {
        const sign = mode === 'sealed' ? appendSigning(input.signer, 'bench', i === appends.length - 1 ? finished : running, events.map((e) => ({ type: e.type, data: e.data }) as RunEvent), now).sign : undefined;
        const prepared = codec.prepareAppend(stream, events, expected, { previousHash, sign });
        previousHash = prepared[prepared.length - 1]?.metadata.hash as string;
      }
      revision += events.length;
    });
  };
  // The texts the chain hashes, built once, so the hashing rows time SHA-256 alone.
  const perEvent = events.map((e) => `${GENESIS_HASH}\n${e.type}\n${canonicalJson(e.data)}\n${canonicalJsonWithout({ schemaVersion: 1, ...e.metadata }, 'hash')}`);
  let at = 0;
  const perAppend = appends.map((a) => perEvent.slice(at, (at += a.length)).join('\n'));
  const sealText = canonicalJson({ kind: 'seal', previousHash: GENESIS_HASH, contentHash: GENESIS_HASH, keyId: input.signer.keyId, at: now, count: events.length });
  const pieces: Record<string, () => void> = {
    'prepareAppend, no chain': () => replay('plain'),
    'prepareAppend, chained (no signer)': () => replay('chained'),
    'prepareAppend, chained and sealed (as the server runs)': () => replay('sealed'),
    [`JSON.stringify of data, ${events.length} events (what no chain writes)`]: () => { for (const e of events) JSON.stringify(e.data); },
    [`canonical JSON of data, ${events.length} events`]: () => { for (const e of events) canonicalJson(e.data); },
    [`canonical JSON of metadata without its hash, ${events.length} events`]: () => { for (const e of events) canonicalJsonWithout({ schemaVersion: 1, ...e.metadata }, 'hash'); },
    [`SHA-256, one per event (${events.length}, chain v1)`]: () => { for (const t of perEvent) hash('sha256', t, 'base64url'); },
    [`SHA-256, one per append (${appends.length}, a chain v2), same text`]: () => { for (const t of perAppend) hash('sha256', t, 'base64url'); },
    'Ed25519 seal, one per run': () => { input.signer.sign(sealText); },
  };
  const rounds = input.rounds ?? 7;
  const repeat = input.repeat ?? 300;
  for (const fn of Object.values(pieces)) cpuPerCall(fn, 100); // warm-up (JIT)
  const all = new Map<string, number[]>(Object.keys(pieces).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) for (const [k, fn] of Object.entries(pieces)) all.get(k)?.push(cpuPerCall(fn, repeat));
  return [...all].map(([piece, values]) => ({ piece, cpuUsPerRun: median(values), allRounds: values }));
}

/** One 5-step run on an in-memory store (no chain), its appends as handed to the port. */
async function recordOneRun(input: ChainPiecesInput): Promise<EventToAppend[][]> {
  const memory = createMemoryEventStore();
  const appends: EventToAppend[][] = [];
  const spy = Object.create(memory) as EventStore;
  spy.append = (streamId, events, options) => {
    appends.push(events.map((e) => ({ type: e.type, data: e.data, metadata: { ...e.metadata } })));
    return memory.append(streamId, events, options);
  };
  const tools = new ToolRegistry([input.tool]);
  const engine = new RunEngine({ store: spy, tools, chain: false });
  const api = new Orchestrator({ engine, tools });
  const runId = randomUUID();
  await api.startRun({ runId, goal: 'bench', profile: 'technical', steps: input.steps.map((s) => ({ ...s, dependsOn: [...s.dependsOn] })) }, { id: 'bench', role: 'developer' });
  await engine.waitFor(runId, (s) => TERMINAL_RUN.has(s.status), 30_000);
  await engine.close();
  await memory.close();
  return appends;
}

function cpuPerCall(fn: () => void, n: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
