import { resolve } from 'node:path';
import { z } from 'zod';

/** How a deployment configures the server: environment variables only. */
export interface ServerEnv {
  /** PORT, default 4000. */
  readonly port: number;
  /** HOST, default all interfaces. */
  readonly host?: string;
  /** GATEHOUSE_DATA_DIR, default ./data: the SQLite store, read models, the admin token. */
  readonly dataDir: string;
  /** GATEHOUSE_CONFIG: a gatehouse.yaml. */
  readonly configPath?: string;
  /**
   * GATEHOUSE_EVENTSTORE: an esdb:// connection string, or `sqlite:///abs/path/events.sqlite` (a
   * SQLite file that several instances on one host share); unset means `<dataDir>/gatehouse.sqlite`.
   */
  readonly eventStore?: string;
  /**
   * GATEHOUSE_INSTANCE_ID: this instance's name among several on one store, recorded on the events
   * its engine decides; unset means one generated at the first start and kept in the data folder.
   */
  readonly instanceId?: string;
  /**
   * GATEHOUSE_CONSISTENCY_WAIT_MS, default 5,000: how long a query's `atLeast` (and a mutation's
   * read-your-writes) waits for this instance's read models before READ_MODEL_LAGGING.
   */
  readonly consistencyWaitMs?: number;
  /** LOG_LEVEL, default info. */
  readonly logLevel: string;
  /** GATEHOUSE_CONSOLE_DIR: the built console to serve at `/`; default dist/console. */
  readonly consoleDir?: string;
  /** GATEHOUSE_SHUTDOWN_GRACE_MS: how long calls in flight may finish at shutdown. Default 10,000. */
  readonly shutdownGraceMs: number;
  /** GATEHOUSE_AUDIT_KEY: the audit signing key, PKCS#8 PEM or a file path; unset means the data folder's own. */
  readonly auditKey?: string;
  /**
   * GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS, default 65,000: how long an idle keep-alive connection
   * stays open. Above the 60 s idle timeout of common proxies, so the proxy, not Gatehouse, closes
   * first and never sends a request down a socket the server has just closed.
   */
  readonly keepAliveTimeoutMs?: number;
  /** GATEHOUSE_HTTP_HEADERS_TIMEOUT_MS, default keep-alive + 1,000: must be above the keep-alive timeout. */
  readonly headersTimeoutMs?: number;
  /** GATEHOUSE_MCP_PROFILE: the profile `/mcp` calls run under. Default technical. */
  readonly mcpProfile?: string;
  /** GATEHOUSE_MCP_WAIT_MS: how long an MCP `tools/call` waits before "still waiting for approval". Default 50,000. */
  readonly mcpWaitMs?: number;
  /** GATEHOUSE_MCP_HEARTBEAT_MS: how often a waiting call repeats its progress message. Default 15,000. */
  readonly mcpHeartbeatMs?: number;
  /** GATEHOUSE_MCP_SESSION_IDLE_MS: an MCP session with nothing open for this long is closed. Default 1,800,000. */
  readonly mcpSessionIdleMs?: number;
  /** GATEHOUSE_PUBLIC_URL: the base of the console links in notifications. Default http://localhost:<PORT>. */
  readonly publicUrl?: string;
}

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  HOST: z.string().min(1).optional(),
  GATEHOUSE_DATA_DIR: z.string().min(1).default('./data'),
  GATEHOUSE_CONFIG: z.string().min(1).optional(),
  GATEHOUSE_EVENTSTORE: z
    .string()
    .regex(/^(esdb(\+discover)?:\/\/|sqlite:\/\/\/)/, 'GATEHOUSE_EVENTSTORE must be an esdb:// connection string or sqlite:///absolute/path')
    .optional(),
  GATEHOUSE_INSTANCE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'GATEHOUSE_INSTANCE_ID must be 1-64 letters, digits, dots, dashes or underscores').optional(),
  GATEHOUSE_CONSISTENCY_WAIT_MS: z.coerce.number().int().min(1).max(600_000).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  GATEHOUSE_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  GATEHOUSE_AUDIT_KEY: z.string().min(1).optional(),
  // Node's requestTimeout (300 s) bounds the headers timeout, so both stay below it.
  GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(290_000).default(65_000),
  GATEHOUSE_HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(300_000).optional(),
  GATEHOUSE_MCP_PROFILE: z.string().min(1).max(100).optional(),
  GATEHOUSE_MCP_WAIT_MS: z.coerce.number().int().min(0).max(86_400_000).optional(),
  GATEHOUSE_MCP_HEARTBEAT_MS: z.coerce.number().int().min(10).max(3_600_000).optional(),
  GATEHOUSE_MCP_SESSION_IDLE_MS: z.coerce.number().int().min(10).max(86_400_000).optional(),
  GATEHOUSE_CONSOLE_DIR: z.string().min(1).optional(),
  GATEHOUSE_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
}).superRefine((e, ctx) => {
  const headers = e.GATEHOUSE_HTTP_HEADERS_TIMEOUT_MS;
  if (headers !== undefined && headers <= e.GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS) {
    ctx.addIssue({ code: 'custom', path: ['GATEHOUSE_HTTP_HEADERS_TIMEOUT_MS'], message: `must be above GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS (${e.GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS})` });
  }
});

/** The SQLite file a `sqlite:///abs/path` GATEHOUSE_EVENTSTORE names, or undefined for any other value. */
export function sqliteStorePath(eventStore: string | undefined): string | undefined {
  return eventStore?.startsWith('sqlite://') ? decodeURIComponent(eventStore.slice('sqlite://'.length)) : undefined;
}

/** Reads the environment; a bad value stops the start with a message naming the variable. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): ServerEnv {
  const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v);
  const result = Env.safeParse(Object.fromEntries(Object.keys(Env.shape).map((k) => [k, blank(env[k])])));
  if (!result.success) {
    throw new Error(`bad environment: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const e = result.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(e.GATEHOUSE_DATA_DIR),
    configPath: e.GATEHOUSE_CONFIG ? resolve(e.GATEHOUSE_CONFIG) : undefined,
    eventStore: e.GATEHOUSE_EVENTSTORE,
    ...(e.GATEHOUSE_INSTANCE_ID ? { instanceId: e.GATEHOUSE_INSTANCE_ID } : {}),
    ...(e.GATEHOUSE_CONSISTENCY_WAIT_MS !== undefined ? { consistencyWaitMs: e.GATEHOUSE_CONSISTENCY_WAIT_MS } : {}),
    logLevel: e.LOG_LEVEL,
    shutdownGraceMs: e.GATEHOUSE_SHUTDOWN_GRACE_MS,
    ...(e.GATEHOUSE_AUDIT_KEY ? { auditKey: e.GATEHOUSE_AUDIT_KEY } : {}),
    keepAliveTimeoutMs: e.GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS,
    headersTimeoutMs: e.GATEHOUSE_HTTP_HEADERS_TIMEOUT_MS ?? e.GATEHOUSE_HTTP_KEEPALIVE_TIMEOUT_MS + 1_000,
    ...(e.GATEHOUSE_MCP_PROFILE ? { mcpProfile: e.GATEHOUSE_MCP_PROFILE } : {}),
    ...(e.GATEHOUSE_MCP_WAIT_MS !== undefined ? { mcpWaitMs: e.GATEHOUSE_MCP_WAIT_MS } : {}),
    ...(e.GATEHOUSE_MCP_HEARTBEAT_MS !== undefined ? { mcpHeartbeatMs: e.GATEHOUSE_MCP_HEARTBEAT_MS } : {}),
    ...(e.GATEHOUSE_MCP_SESSION_IDLE_MS !== undefined ? { mcpSessionIdleMs: e.GATEHOUSE_MCP_SESSION_IDLE_MS } : {}),
    ...(e.GATEHOUSE_CONSOLE_DIR ? { consoleDir: resolve(e.GATEHOUSE_CONSOLE_DIR) } : {}),
    ...(e.GATEHOUSE_PUBLIC_URL ? { publicUrl: e.GATEHOUSE_PUBLIC_URL } : {}),
  };
}
