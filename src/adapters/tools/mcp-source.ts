import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, ToolListChangedNotificationSchema, type Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { SecretProvider } from '../../domain/ports/secrets.js';
import { redact, SensitiveKeys } from '../../domain/secrets.js';
import type { McpServerConfig, SecretOrString } from '../../orchestrator/tool-config.js';
import { type ToolAvailability, type ToolDefinition, ToolError, type ToolRegistry } from '../../orchestrator/tools/tool.js';
import { mcpToolDefinition, type McpToolEntry } from './mcp-tool.js';

/** Where an MCP source reports what it does (pino's shape). */
export interface SourceLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const noKeys = new SensitiveKeys([], []);
const MAX_PAGES = 1_000;

/**
 * One `mcpServers:` entry: a connection to an MCP server (stdio child process or Streamable HTTP)
 * whose tools are registered as `<server>.<tool>`. It never stops Gatehouse: a server that is down
 * (at start or later) leaves its known tools registered but unavailable and is reconnected (a
 * stdio process restarted) with exponential backoff; `tools/list_changed` re-lists.
 */
export class McpToolSource {
  private client: Client | undefined;
  private connected = false;
  private reason = 'not connected yet';
  private failures = 0;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  private readonly entries = new Map<string, McpToolEntry>();
  private knownSecrets: string[] = [];

  constructor(
    readonly name: string,
    private readonly config: McpServerConfig,
    private readonly secrets: SecretProvider,
    private readonly registry: ToolRegistry,
    private readonly log: SourceLog,
  ) {
    // Tools named in config are listed even while the server is down, so an agent sees them (unavailable).
    for (const tool of Object.keys(config.tools)) this.entry(tool);
  }

  /** Connects and lists once (bounded by `connectTimeoutMs`); on failure, keeps trying in the background. Never throws. */
  async start(): Promise<void> {
    await this.connect();
  }

  /** Whether the server is connected, and why not. */
  availability(): ToolAvailability {
    return this.connected ? { available: true } : { available: false, reason: `MCP server ${this.name} is unavailable: ${this.reason}` };
  }

  /** Stops reconnecting and closes the connection (a stdio child is ended). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    await client?.close().catch(() => undefined);
  }

  /** Calls `tool` on the server: transport failures are SYSTEM (retried only when idempotent if the call may have run). */
  async call(entry: McpToolEntry, input: Record<string, unknown>, ctx: { signal: AbortSignal; idempotencyKey: string }, idempotent: boolean): Promise<unknown> {
    const client = this.client;
    if (!client || !this.connected) throw new ToolError('SYSTEM', this.availability().reason ?? 'unavailable', 'MCP_UNAVAILABLE');
    if (!entry.listing) throw new ToolError('SYSTEM', `MCP server ${this.name} does not offer ${entry.tool}`, 'MCP_UNAVAILABLE');
    let result;
    try {
      result = await client.callTool({ name: entry.tool, arguments: input, _meta: { idempotencyKey: ctx.idempotencyKey } }, undefined, {
        signal: ctx.signal,
        // The invoker enforces the tool's timeout; the SDK's own 60 s default must not cut in first.
        timeout: 2_147_483_647,
      });
    } catch (error) {
      if (ctx.signal.aborted) throw error; // timeout or cancellation: the invoker classifies it
      const message = this.clean(error instanceof Error ? error.message : String(error));
      if (error instanceof McpError && error.code !== ErrorCode.ConnectionClosed && error.code !== ErrorCode.RequestTimeout) {
        throw new ToolError(error.code === ErrorCode.InvalidParams ? 'USER' : 'AGENT', `${this.name}.${entry.tool}: ${message}`, `MCP_${error.code}`);
      }
      // A Streamable HTTP server that restarted has lost our session: connect afresh (stdio reports its own close).
      if (this.config.transport === 'http') {
        this.lost(client, message);
        void client.close().catch(() => undefined);
      }
      // The request may have reached the server before the connection broke: repeat only what is idempotent.
      throw new ToolError('SYSTEM', `${this.name}.${entry.tool}: transport failed: ${message}`, 'MCP_TRANSPORT', idempotent);
    }
    if (result.isError) {
      const text = (result.content as Array<{ type: string; text?: string }> | undefined)?.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n') ?? 'error';
      throw new ToolError(entry.override?.isErrorAs ?? 'AGENT', this.clean(`${this.name}.${entry.tool}: ${text}`).slice(0, 5_000), 'MCP_TOOL_ERROR');
    }
    return this.clean(result.structuredContent !== undefined ? { content: result.content, structuredContent: result.structuredContent } : { content: result.content });
  }

  /** Secret values of headers/env must not come back into the log through an echo. */
  private clean<T>(value: T): T {
    return this.knownSecrets.length === 0 ? value : (redact(value, noKeys, this.knownSecrets) as T);
  }

  private entry(tool: string): McpToolEntry {
    let entry = this.entries.get(tool);
    if (!entry) {
      entry = { tool, listing: undefined, override: this.config.tools[tool] };
      const definition = mcpToolDefinition(this, this.config, entry);
      if (!definition) {
        this.log.warn({ server: this.name, tool }, 'MCP tool skipped: its name cannot be a Gatehouse tool name');
        return entry;
      }
      if (this.registry.get(definition.name)) {
        // Another source got the name first: skip this one tool rather than the whole server.
        this.log.warn({ server: this.name, tool, name: definition.name }, 'MCP tool skipped: its name is already taken by another tool');
        return entry;
      }
      this.registry.register(definition as ToolDefinition);
      this.entries.set(tool, entry);
    }
    return entry;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    let transport: Transport | undefined;
    let client: Client | undefined;
    try {
      transport = await this.transport();
      client = new Client({ name: 'gatehouse', version: '0.1.0' }, { capabilities: {} });
      client.onclose = () => this.lost(client as Client, 'connection closed');
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        this.refreshing = this.refreshing.then(() => this.list(client as Client)).catch((e: unknown) => this.log.warn({ server: this.name, err: e }, 'MCP tools re-list failed'));
      });
      await withTimeout(
        (async () => {
          await (client as Client).connect(transport as Transport);
          await this.list(client as Client);
        })(),
        this.config.connectTimeoutMs,
        `no answer within ${this.config.connectTimeoutMs} ms`,
      );
      if (this.closed) {
        await client.close().catch(() => undefined);
        return;
      }
      this.client = client;
      this.connected = true;
      this.failures = 0;
      this.log.info({ server: this.name, tools: [...this.entries.values()].filter((e) => e.listing).length }, 'MCP server connected');
    } catch (error) {
      const c = client;
      if (c) c.onclose = undefined;
      await (c ? c.close() : transport?.close())?.catch(() => undefined);
      this.down(this.clean(error instanceof Error ? error.message : String(error)));
    }
  }

  /** The connection of `client` ended: mark tools unavailable and reconnect (a stdio server is restarted). */
  private lost(client: Client, why: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.connected = false;
    this.down(why);
  }

  private down(why: string): void {
    this.connected = false;
    this.reason = why;
    if (this.closed) return;
    const { baseDelayMs, maxDelayMs } = this.config.reconnect;
    const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(this.failures, 30));
    this.failures += 1;
    this.log.warn({ server: this.name, reason: why, retryInMs: delay }, 'MCP server unavailable');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }

  /** Lists every page; new tools are registered, changed ones updated, vanished ones left without a listing. */
  private async list(client: Client): Promise<void> {
    const seen = new Map<string, McpTool>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await client.listTools(cursor === undefined ? {} : { cursor });
      for (const t of result.tools) seen.set(t.name, t);
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    for (const [tool, listing] of seen) this.entry(tool).listing = listing;
    for (const [tool, entry] of this.entries) if (!seen.has(tool)) entry.listing = undefined;
  }

  private async transport(): Promise<Transport> {
    const c = this.config;
    if (c.transport === 'stdio') {
      const env = await this.resolve(c.env, 'env');
      const transport = new StdioClientTransport({ command: c.command, args: c.args, env: { ...getDefaultEnvironment(), ...env }, ...(c.cwd ? { cwd: c.cwd } : {}), stderr: 'pipe' });
      // What a server says on stderr is the operator's only clue when it dies: keep it, scrubbed of our secrets.
      transport.stderr?.on('data', (chunk: Buffer) => this.log.warn({ server: this.name, stderr: this.clean(chunk.toString('utf8').slice(0, 2_000)) }, 'MCP server stderr'));
      return transport;
    }
    const headers = await this.resolve(c.headers, 'header');
    return new StreamableHTTPClientTransport(new URL(c.url), { requestInit: { headers } });
  }

  private async resolve(values: Record<string, SecretOrString>, what: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const known: string[] = [];
    for (const [key, value] of Object.entries(values)) {
      if (typeof value === 'string') {
        out[key] = value;
        continue;
      }
      const secret = await this.secrets.get(value.$secret);
      if (secret === undefined) throw new Error(`secret ${value.$secret} (${what} ${key}) is not configured`);
      out[key] = `${value.prefix ?? ''}${secret}`;
      known.push(secret);
    }
    this.knownSecrets = known;
    return out;
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
