import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type CallToolResult,
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { DomainError } from '../domain/errors.js';
import { formatIssues } from '../domain/events/index.js';
import type { RunState } from '../domain/run/state.js';
import { runStreamId } from '../domain/run/state.js';
import { OPERATION_ROLES } from '../graphql/auth/operations.js';
import type { AuthPrincipal, GatehouseServices } from '../graphql/context.js';
import type { Profile } from '../orchestrator/profiles.js';
import { listTools, profileAllows, RUN_STATUS_TOOL, RunStatusArgs } from './listing.js';
import { CALL_STEP_ID, type CallOutcome, type Denial, outcomeOf, stillWaiting } from './outcome.js';

/** How the MCP front behaves. */
export interface McpGatewayOptions {
  readonly services: GatehouseServices;
  /** The profile a principal's MCP calls run under (tools/list shows what it allows). */
  readonly profileOf: (principal: AuthPrincipal) => Profile;
  /** How long a `tools/call` waits for its run before answering "still waiting". */
  readonly waitLimitMs: number;
  /**
   * While a call waits, its waiting message is sent again this often, so a client that resets its
   * request timeout on progress (the SDK's `resetTimeoutOnProgress`) does not give up on a gate.
   */
  readonly heartbeatMs: number;
  /** Where failures that are not the caller's are reported (they are masked in the answer). */
  readonly onInternalError?: (error: unknown) => void;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** The version Gatehouse announces to MCP clients. */
export const GATEHOUSE_MCP_VERSION = '0.1.0';

/**
 * One MCP server per session: a translator like the GraphQL resolvers. `tools/list` is the
 * catalog the profile allows; `tools/call` becomes the same `startRun` a GraphQL caller makes
 * (one step), then a wait on the run that reports its gate as progress and answers with a
 * projection of the run's outcome.
 */
export function createMcpServer(options: McpGatewayOptions): Server {
  const { services, profileOf } = options;
  const server = new Server({ name: 'gatehouse', version: GATEHOUSE_MCP_VERSION }, { capabilities: { tools: { listChanged: false } } });
  server.setRequestHandler(ListToolsRequestSchema, (_request, extra) => {
    return { tools: listTools(services.tools.list(), profileOf(principalOf(extra))) };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const principal = principalOf(extra);
    const { name, arguments: args = {} } = request.params;
    try {
      if (name === RUN_STATUS_TOOL) return await runStatus(options, principal, args);
      return await callTool(options, server, principal, name, args, extra);
    } catch (error) {
      if (error instanceof McpError) throw error;
      if (error instanceof DomainError) return refusal(`${error.code}: ${error.message}`);
      options.onInternalError?.(error);
      throw new McpError(ErrorCode.InternalError, 'internal error');
    }
  });
  return server;
}

async function callTool(options: McpGatewayOptions, server: Server, principal: AuthPrincipal, name: string, args: Record<string, unknown>, extra: Extra): Promise<CallToolResult> {
  const { services } = options;
  const profile = options.profileOf(principal);
  const tool = services.tools.get(name);
  if (!tool || !profileAllows(profile, name)) throw new McpError(ErrorCode.InvalidParams, `unknown tool ${name}`);
  if (!principal.isAdmin && !(OPERATION_ROLES.startRun as string[]).includes(principal.role)) {
    return refusal(`UNAUTHORIZED: role ${principal.role} may not start runs`);
  }
  // Refused here, before anything is appended, with the schema's own words for the agent to fix.
  const parsed = tool.input.safeParse(args);
  if (!parsed.success) return refusal(`VALIDATION: arguments do not fit ${name}: ${formatIssues(parsed.error)}`);
  const client = server.getClientVersion();
  const started = await services.orchestrator.startRun(
    {
      goal: `MCP tools/call ${name} from ${client ? `${client.name} ${client.version}` : 'an unnamed client'}${extra.sessionId ? ` (session ${extra.sessionId})` : ''}`,
      profile: profile.name,
      steps: [{ id: CALL_STEP_ID, tool: name, input: args, domain: tool.domain, dependsOn: [] }],
    },
    { id: principal.id, role: principal.role },
  );
  return waitForOutcome(options, principal, started, extra);
}

/**
 * Waits on the run, not on a timer: every change the engine makes is looked at; a new waiting
 * message goes out as a progress notification; the wait limit answers "still waiting" and leaves
 * the run as it is; a cancelled request cancels the run.
 */
function waitForOutcome(options: McpGatewayOptions, principal: AuthPrincipal, started: RunState, extra: Extra): Promise<CallToolResult> {
  const { services } = options;
  const runId = started.runId;
  const progressToken = extra._meta?.progressToken;
  return new Promise<CallToolResult>((resolve, reject) => {
    let settled = false;
    let lastMessage: string | undefined;
    let progress = 0;
    let latest: CallOutcome = outcomeOf(started);
    const finish = (result: CallToolResult | Error) => {
      if (settled) return;
      settled = true;
      stop();
      clearTimeout(timer);
      clearInterval(heartbeat);
      extra.signal.removeEventListener('abort', onAbort);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const look = (state: RunState) => {
      if (settled) return;
      const outcome = outcomeOf(state);
      latest = outcome;
      if (outcome.kind === 'done') {
        void withDenial(services, state).then(finish, finish);
        return;
      }
      if (outcome.message !== lastMessage) notify(outcome.message);
    };
    const notify = (message: string) => {
      lastMessage = message;
      if (progressToken === undefined) return;
      progress += 1;
      extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, message } }).catch(() => undefined);
    };
    const heartbeat = setInterval(() => lastMessage !== undefined && notify(lastMessage), options.heartbeatMs);
    const stop = services.orchestrator.onRunChange((id, state) => {
      if (id === runId) look(state);
    });
    // A finished run is being answered already (its denial read from the log): let that win.
    const timer = setTimeout(() => latest.kind === 'open' && finish(stillWaiting(runId, latest)), options.waitLimitMs);
    const onAbort = () => {
      // The client gave up on the request: the run it started goes with it, recorded as its cancel.
      services.orchestrator
        .cancelRun(runId, { id: principal.id, role: principal.role, isAdmin: principal.isAdmin }, 'the MCP client cancelled the request')
        .catch((error: unknown) => options.onInternalError?.(error));
      finish(new McpError(ErrorCode.RequestTimeout, 'cancelled'));
    };
    extra.signal.addEventListener('abort', onAbort, { once: true });
    look(started);
    // The state `startRun` returned may already be behind the engine (a fast tool): read it again.
    services.orchestrator.getRun(runId).then(look, (error: unknown) => finish(error as Error));
  });
}

/** A finished run's outcome; a denial names who denied it and why, from the log. */
async function withDenial(services: GatehouseServices, state: RunState): Promise<CallToolResult> {
  const gate = state.steps.find((s) => s.id === CALL_STEP_ID)?.gate;
  let denial: Denial | undefined;
  if (gate?.status === 'DENIED') {
    const events = await services.store.readStream(runStreamId(state.runId));
    const denied = events.find((e) => e.type === 'ApprovalDenied' && (e.data as { approvalId?: string }).approvalId === gate.approvalId);
    const data = denied?.data as { approver: { id: string; role: string }; justification?: string } | undefined;
    if (data) denial = { approver: `${data.approver.id} (${data.approver.role})`, justification: data.justification };
  }
  const outcome = outcomeOf(state, denial);
  return outcome.kind === 'done' ? outcome.result : stillWaiting(state.runId, outcome);
}

/** `gatehouse.run_status`: the caller's own run (admins see any), as its call would have answered. */
async function runStatus(options: McpGatewayOptions, principal: AuthPrincipal, args: Record<string, unknown>): Promise<CallToolResult> {
  const parsed = RunStatusArgs.safeParse(args);
  if (!parsed.success) return refusal(`VALIDATION: arguments do not fit ${RUN_STATUS_TOOL}: ${formatIssues(parsed.error)}`);
  const state = await options.services.orchestrator.getRun(parsed.data.runId);
  // Someone else's run answers as a missing one: run ids are not secrets, but runs are. Viewers
  // too: the answer is the tool's output, a payload GraphQL does not show them either.
  if (!principal.isAdmin && state.requestedBy?.id !== principal.id) {
    return refusal(`NOT_FOUND: no run ${parsed.data.runId}`);
  }
  // Any run of the caller's may be asked about; only a tools/call run has the one `call` step whose
  // result the outcome projection reads (a GraphQL run read as "failed: no error recorded").
  if (!state.steps.some((s) => s.id === CALL_STEP_ID)) {
    const text = `run ${state.runId} is ${state.status}: not started by a tools/call, so it has no single result; read it over GraphQL (run, runEvents)`;
    return { content: [{ type: 'text', text }], _meta: { 'gatehouse/runId': state.runId, 'gatehouse/status': state.status } };
  }
  const outcome = outcomeOf(state);
  if (outcome.kind === 'done') return withDenial(options.services, state);
  return { content: [{ type: 'text', text: `run ${state.runId} is ${state.status}: ${outcome.message}` }], _meta: { 'gatehouse/runId': state.runId, 'gatehouse/status': state.status } };
}

function refusal(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

/** The principal the HTTP layer authenticated for this request (no token, no MCP). */
function principalOf(extra: Extra): AuthPrincipal {
  const principal = extra.authInfo?.extra?.principal as AuthPrincipal | undefined;
  if (!principal) throw new McpError(ErrorCode.InvalidRequest, 'unauthenticated');
  return principal;
}
