import type { EventStore } from '../domain/ports/event-store.js';
import type { Orchestrator } from '../orchestrator/api.js';
import type { Playbook, Profile, WorkerConfig } from '../orchestrator/profiles.js';
import type { ToolRegistry } from '../orchestrator/tools/tool.js';
import type { ProjectionRunner } from '../projections/index.js';
import type { WrittenPosition } from './readers/consistency.js';

/** Who is calling: a principal id, the one role it acts in, and whether it administers Gatehouse. */
export interface AuthPrincipal {
  readonly id: string;
  readonly role: string;
  readonly isAdmin: boolean;
  /** The profile its MCP calls run under, when its token names one. */
  readonly mcpProfile?: string;
}

/**
 * What the GraphQL layer needs from the rest of Gatehouse: the in-process API for commands, the
 * log for the audit replay and live feeds, the read models for queries, and the catalogs.
 */
export interface GatehouseServices {
  readonly orchestrator: Orchestrator;
  readonly store: EventStore;
  readonly projections: ProjectionRunner;
  readonly tools: ToolRegistry;
  readonly workers: readonly WorkerConfig[];
  readonly profiles: Readonly<Record<string, Profile>>;
  readonly playbooks: readonly Playbook[];
  /** The time read models are measured at (ages, windows): the engine's clock. */
  readonly now: () => string;
  /** How long a mutation waits for the read models to apply its own write, and a query for its `atLeast`. Default 5,000 ms. */
  readonly readYourWritesTimeoutMs?: number;
  /** The public half of the key that signs approval decisions (PEM), when the server signs them. */
  readonly auditPublicKey?: string;
  /** Calls in flight per worker and instance, read from the log (none without a driving engine). */
  readonly workerLoad?: () => ReadonlyArray<{ worker: string; instance: string | undefined; inFlight: number }>;
}

/** Per request (HTTP) or per operation (graphql-ws). */
export interface GraphQLContext {
  readonly principal: AuthPrincipal | undefined;
  readonly services: GatehouseServices;
  /** Aborted when the WebSocket that carries a subscription closes. */
  readonly signal?: AbortSignal;
  /** The log position this request's mutations wrote: returned as `extensions.consistencyToken` (HTTP). */
  readonly written?: WrittenPosition;
}
