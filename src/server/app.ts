import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createEsdbEventStore } from '../adapters/eventstore/esdb/esdb-event-store.js';
import { createSqliteEventStore } from '../adapters/eventstore/sqlite/sqlite-event-store.js';
import { createSqliteReadModelStore } from '../adapters/readmodels/sqlite-read-model-store.js';
import { createSqliteRunIndex } from '../adapters/runindex/sqlite-run-index.js';
import { errorCode } from '../domain/errors.js';
import type { EventStore } from '../domain/ports/event-store.js';
import type { TokenEntry } from '../domain/roles.js';
import { TokenDirectory } from '../graphql/auth/tokens.js';
import type { GatehouseServices } from '../graphql/context.js';
import type { Limits } from '../graphql/http/limits.js';
import { type GraphqlServer, type ServerLog, startGraphqlServer } from '../graphql/http/server.js';
import { Orchestrator } from '../orchestrator/api.js';
import { RunEngine } from '../orchestrator/engine.js';
import type { Playbook } from '../orchestrator/profiles.js';
import { type ToolDefinition, ToolRegistry } from '../orchestrator/tools/tool.js';
import { allProjections, ProjectionRunner } from '../projections/index.js';
import type { Every } from '../projections/runner/retention.js';
import { ensureAdminToken } from './admin-token.js';
import { consoleHandlers } from './console-assets.js';
import { createRulesApprover } from '../adapters/approvers/rules-approver.js';
import { createWebhookApprover } from '../adapters/approvers/webhook-approver.js';
import { createEnvSecrets } from '../adapters/secrets/env-secrets.js';
import type { SecretProvider } from '../domain/ports/secrets.js';
import { loadOrCreateAuditSigner } from '../adapters/audit/ed25519-keys.js';
import { channelsFrom } from '../adapters/notifiers/channels.js';
import { fileCheckpoint } from '../adapters/notifiers/file-checkpoint.js';
import { NotificationDispatcher } from '../orchestrator/notification-dispatcher.js';
import type { Approver } from '../domain/ports/approver.js';
import { type GatehouseConfig, loadConfig } from '../orchestrator/config.js';
import { startConfiguredTools } from '../adapters/tools/configured-tools.js';
import { demoPlaybooks, demoTools } from './demo-tools.js';
import { type ServerEnv, sqliteStorePath } from './env.js';
import { FollowerHealth } from '../following/health.js';
import { createMetrics } from './metrics.js';
import { instanceIdOf, lockDataFolder } from '../adapters/instance/data-folder-lock.js';
import { defaultLimits } from '../graphql/http/limits.js';
import { type McpHttpEndpoint, mcpHttpEndpoint } from '../mcp/http.js';

export interface GatehouseAppOptions {
  readonly env: ServerEnv;
  readonly log: ServerLog;
  /** Tools besides (or instead of, with `demoTools: false`) the demo tools. */
  readonly tools?: readonly ToolDefinition[];
  readonly demoTools?: boolean;
  /** How long the simulated demo tools take. Default 300 ms. */
  readonly demoDelayMs?: number;
  readonly playbooks?: readonly Playbook[];
  /** Tokens besides those of gatehouse.yaml (tests). */
  readonly tokens?: readonly TokenEntry[];
  readonly limits?: Partial<Limits>;
  /** Tests: the retention sweep's clock and timer (default: the wall clock and an hourly `setInterval`). */
  readonly retentionSchedule?: { readonly now?: () => number; readonly every?: Every };
}

/**
 * The MCP front's defaults: calls run under this profile and wait this long before "still
 * waiting" — under the 60 s request timeout MCP clients commonly keep, because a client that times
 * out sends a cancel, and a cancel cancels the run.
 */
export const MCP_DEFAULTS = { profile: 'technical', waitMs: 50_000, heartbeatMs: 15_000 } as const;

/** A running Gatehouse: the engine, the read models and the API on one port. */
export interface GatehouseApp {
  readonly server: GraphqlServer;
  readonly store: EventStore;
  readonly services: GatehouseServices;
  /** The generated admin token, when no admin token is configured; `created` at the first start only. */
  readonly adminToken?: { token: string; path: string; created: boolean };
  /** The public half of the audit key that signs approval decisions (PEM). */
  readonly auditPublicKey: string;
  /** This instance's id (GATEHOUSE_INSTANCE_ID, or the one generated and kept in the data folder). */
  readonly instanceId: string;
  /** Gatehouse as an MCP server at `/mcp`. */
  readonly mcp: McpHttpEndpoint;
  /** Graceful stop: drain HTTP, close sockets, then the engine, the read models and the store. */
  stop(): Promise<void>;
}

/** The composition root: wires the store, engine, projections and the GraphQL server, and starts them. */
export async function startGatehouse(options: GatehouseAppOptions): Promise<GatehouseApp> {
  const { env } = options;
  mkdirSync(env.dataDir, { recursive: true, mode: 0o700 });
  // First of all: a second instance on this folder would share its read models and run index.
  const lock = lockDataFolder(env.dataDir);
  try {
    return await startLocked(options, lock.release);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function startLocked(options: GatehouseAppOptions, unlock: () => void): Promise<GatehouseApp> {
  const { env, log } = options;
  const instanceId = instanceIdOf(env.dataDir, env.instanceId);
  // gatehouse.yaml (or DESIGN.md's defaults): approval policy, approvers, notifications, tokens,
  // profiles, workers, playbooks. A bad value stops the start with the path of the value.
  const config = loadConfig(env.configPath);
  // A shared SQLite file (sqlite:///…) is a store like EventStoreDB: the log only, shared by instances.
  const sharedSqlite = sqliteStorePath(env.eventStore);
  const sqlitePath = join(env.dataDir, 'gatehouse.sqlite');
  const store: EventStore = sharedSqlite
    ? createSqliteEventStore({ path: sharedSqlite })
    : env.eventStore
      ? createEsdbEventStore({ connectionString: env.eventStore })
      : createSqliteEventStore({ path: sqlitePath });
  // Read models and the run index stay local: with a separate store they live in the data folder's own file.
  const localPath = env.eventStore ? join(env.dataDir, 'local.sqlite') : sqlitePath;
  const readModels = createSqliteReadModelStore({ path: localPath });
  const runIndex = createSqliteRunIndex(localPath);

  const tools = new ToolRegistry([...(options.demoTools === false ? [] : demoTools(env.dataDir, options.demoDelayMs)), ...(options.tools ?? [])]);
  const secrets = createEnvSecrets();
  // gatehouse.yaml's HTTP tools and MCP servers: a bad entry stops the start; a server that is down does not.
  const configured = await startConfiguredTools(config, tools, secrets, log);
  const playbooks = [...(options.demoTools === false ? [] : demoPlaybooks), ...config.playbooks, ...(options.playbooks ?? [])];
  const profiles = config.profiles;
  // Checked before anything opens: a bad MCP profile stops the start like a bad config value.
  const mcpProfile = profiles[env.mcpProfile ?? MCP_DEFAULTS.profile];
  if (!mcpProfile) throw new Error(`GATEHOUSE_MCP_PROFILE: no profile "${env.mcpProfile ?? MCP_DEFAULTS.profile}" (profiles: ${Object.keys(profiles).join(', ')})`);
  // A token naming a profile that does not exist is a config error, not an agent with no tools.
  config.auth.tokens.forEach((t, i) => {
    if (t.mcpProfile !== undefined && !Object.hasOwn(profiles, t.mcpProfile)) {
      throw new Error(`invalid config: auth.tokens.${i}.mcpProfile (${t.id}): no profile "${t.mcpProfile}" (profiles: ${Object.keys(profiles).join(', ')})`);
    }
  });
  const workers = config.workers;
  const signer = loadOrCreateAuditSigner({ dataDir: env.dataDir, key: env.auditKey });
  // Every follower of the log (run follower, projections, metrics) says here whether it is live.
  const health = new FollowerHealth();
  const followError = (follower: string) => (error: unknown) => {
    log.warn({ err: error, follower }, 'follower lost its subscription; resubscribing');
    metrics.error('follow', errorCode(error));
  };
  const engine = new RunEngine({
    followerHealth: health,
    instanceId,
    store, tools, runIndex, profiles, workers, secrets,
    approvalPolicy: config.approvals,
    approvers: approversFrom(config, secrets),
    signer,
    sensitiveKeys: config.sensitiveKeys,
    // Every error the engine cannot return to a caller is logged and counted, never dropped.
    onError: (error, ctx) => {
      log.error({ err: error, ...ctx }, 'engine error');
      metrics.error(ctx.what, ctx.code ?? errorCode(error));
    },
  });
  const orchestrator = new Orchestrator({ engine, tools, playbooks });
  const projections = new ProjectionRunner({
    store, readModels, projections: allProjections,
    retention: config.retention.finishedRunsDays === undefined ? undefined : { finishedRunsDays: config.retention.finishedRunsDays, every: options.retentionSchedule?.every },
    ...(options.retentionSchedule?.now ? { now: options.retentionSchedule.now } : {}),
    health,
    onFollowError: followError('projections'),
    onError: (error) => {
      log.error({ err: error, projection: error.projection }, 'projection stopped');
      metrics.error('projection', errorCode(error.cause));
    },
  });
  // Before anything starts, so the first error is counted.
  const metrics = createMetrics(store, projections, health, followError('metrics'));

  const entries: TokenEntry[] = [...config.auth.tokens, ...(options.tokens ?? [])];
  // Without a configured admin, one is generated so the server can always be administered.
  const adminToken = entries.some((t) => t.role === 'admin') ? undefined : ensureAdminToken(env.dataDir);
  // On a store other instances may share, what lives in one data folder is this instance's alone.
  if (env.eventStore) warnUnshared(env, adminToken !== undefined, log);
  if (adminToken) entries.push({ token: adminToken.token, id: 'admin', role: 'admin' });
  const tokens = new TokenDirectory(entries);

  await projections.start();
  const recovered = await engine.start();
  if (recovered.length > 0) log.info({ runs: recovered.length }, 'recovered unfinished runs');
  const services: GatehouseServices = {
    orchestrator, store, projections, tools, workers: [...workers], profiles, playbooks, now: () => engine.now(),
    auditPublicKey: signer.publicKeyPem,
    workerLoad: () => engine.workerLoad(),
    ...(env.consistencyWaitMs !== undefined ? { readYourWritesTimeoutMs: env.consistencyWaitMs } : {}),
  };
  const mcp = mcpHttpEndpoint({
    services, tokens,
    profileOf: (principal) => (principal.mcpProfile !== undefined ? profiles[principal.mcpProfile] : undefined) ?? mcpProfile,
    waitLimitMs: env.mcpWaitMs ?? MCP_DEFAULTS.waitMs,
    heartbeatMs: env.mcpHeartbeatMs ?? MCP_DEFAULTS.heartbeatMs,
    sessionIdleMs: env.mcpSessionIdleMs,
    maxBodyBytes: options.limits?.maxBodyBytes ?? defaultLimits.maxBodyBytes,
    onInternalError: (error) => log.error({ err: error }, 'mcp internal error (masked in the response)'),
  });
  const server = await startGraphqlServer(
    {
      services, tokens, log, limits: options.limits,
      metrics: () => metrics.render(),
      health: async () => {
        const status = projections.status();
        const followers = health.statuses();
        const ok = status.every((p) => p.status === 'running') && followers.every((f) => f.state === 'live');
        return { ok, store: env.eventStore && !sharedSqlite ? 'eventstoredb' : 'sqlite', projections: status.map((p) => ({ name: p.name, status: p.status })), followers };
      },
      onOperation: (info) => metrics.operation(info.kind, info.errorCodes.length === 0),
      http: { keepAliveTimeoutMs: env.keepAliveTimeoutMs, headersTimeoutMs: env.headersTimeoutMs },
      routes: [{ path: '/mcp', handler: mcp.handler, close: () => mcp.close() }],
      console: consoleHandlers(env.consoleDir),
    },
    env.port,
    env.host,
  );

  // Notifications follow the log like the projections: who is told what is decided from it, once across instances.
  const notifications = new NotificationDispatcher({
    store, config: config.notifications, people: config.auth.tokens, channels: channelsFrom(config.notifications, secrets), instance: instanceId,
    publicUrl: env.publicUrl ?? `http://localhost:${server.port}`, checkpoint: fileCheckpoint(join(env.dataDir, 'notifications.checkpoint')), health,
    onError: (error) => {
      log.warn({ err: error }, 'notification dispatcher error');
      metrics.error('notify', errorCode(error));
    },
  });
  await notifications.start();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await server.close();
      await metrics.close();
      await engine.shutdown(env.shutdownGraceMs);
      await configured.close();
      await notifications.close();
      await projections.stop();
      readModels.close();
      await runIndex.close();
      await store.close();
      unlock();
    })());
  return { server, store, services, adminToken, auditPublicKey: signer.publicKeyPem, instanceId, mcp, stop };
}

/** The automated approvers of the config, in the order they are consulted. */
function approversFrom(config: GatehouseConfig, secrets: SecretProvider): Approver[] {
  const lookup = (ref: { $secret: string }) => () => secrets.get(ref.$secret);
  return config.automatedApprovers.map((a) =>
    a.type === 'rules'
      ? createRulesApprover(a.name, a.rules, { maxRisk: a.maxRisk, actsFor: a.actsFor })
      : createWebhookApprover({
          name: a.name, url: a.url, timeoutMs: a.timeoutMs, maxRisk: a.maxRisk, actsFor: a.actsFor, secret: lookup(a.secret),
          headers: Object.fromEntries(Object.entries(a.headers).map(([k, v]) => [k, typeof v === 'string' ? v : lookup(v)])),
          signatureHeader: a.signatureHeader, timestampHeader: a.timestampHeader,
        }),
  );
}

/**
 * Several instances share one log, so they must share the audit key (an auditor pins one public
 * key) and the tokens (any instance serves any caller): a generated key or admin token lives in
 * this instance's data folder only. Said at start, not refused: one instance on a separate store
 * file is a valid deployment too.
 */
function warnUnshared(env: ServerEnv, generatedAdmin: boolean, log: ServerLog): void {
  if (!env.auditKey) log.warn({ dataDir: env.dataDir }, 'GATEHOUSE_EVENTSTORE is set but GATEHOUSE_AUDIT_KEY is not: this instance signs with its own data-folder key; give every instance on the store the same GATEHOUSE_AUDIT_KEY');
  if (generatedAdmin) log.warn({ dataDir: env.dataDir }, 'GATEHOUSE_EVENTSTORE is set but gatehouse.yaml names no admin token: the generated one works on this instance only; configure the admin in the gatehouse.yaml every instance reads');
}
