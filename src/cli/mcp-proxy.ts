import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { type JSONRPCMessage, InitializeResultSchema, isJSONRPCRequest, isJSONRPCResultResponse } from '@modelcontextprotocol/sdk/types.js';

/**
 * `gatehouse mcp`: an MCP server on stdin/stdout for clients that launch a process, relaying every
 * message to a running server's `/mcp` with the caller's token. A relay, not a second engine: one
 * engine per store decides every run, so gates, budgets and the log are the same as over HTTP.
 * Resolves when the client closes stdin.
 */
export async function relayStdioToMcp(url: string, token: string, log: (line: string) => void): Promise<void> {
  const upstream = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const local = new StdioServerTransport();
  const initializing = new Set<string | number>();
  let closing = false;

  local.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCRequest(message) && message.method === 'initialize') initializing.add(message.id);
    upstream.send(message).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      log(`gatehouse mcp: ${url}: ${reason}`);
      // A request must be answered, or the client waits for ever: answer it with the failure.
      if (isJSONRPCRequest(message)) void local.send({ jsonrpc: '2.0', id: message.id, error: { code: -32603, message: `Gatehouse at ${url}: ${reason}` } });
    });
  };
  upstream.onmessage = (message: JSONRPCMessage) => {
    // The HTTP transport sends the negotiated protocol version on every later request.
    if (isJSONRPCResultResponse(message) && initializing.delete(message.id)) {
      const init = InitializeResultSchema.safeParse(message.result);
      if (init.success) upstream.setProtocolVersion(init.data.protocolVersion);
    }
    void local.send(message);
  };
  upstream.onerror = (error) => log(`gatehouse mcp: ${url}: ${error.message}`);
  const closed = new Promise<void>((resolve) => {
    local.onclose = () => {
      if (closing) return;
      closing = true;
      // End the server's session too (DELETE), so its MCP session does not linger.
      void upstream.terminateSession().catch(() => undefined).finally(() => upstream.close().finally(resolve));
    };
  });
  await upstream.start();
  await local.start();
  process.stdin.once('end', () => void local.close());
  return closed;
}
