import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtFile } from '../support/built.js';
import { type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';

let h: ServerHarness;

/** `gatehouse mcp` (the built CLI) launched the way a desktop MCP client launches it. */
async function launch(token: string | undefined, name = 'desktop-client') {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), GATEHOUSE_URL: h.url };
  if (token) env.GATEHOUSE_TOKEN = token;
  else delete env.GATEHOUSE_TOKEN;
  const transport = new StdioClientTransport({ command: process.execPath, args: [builtFile('src/cli/main.ts'), 'mcp'], env, stderr: 'pipe' });
  const stderr: string[] = [];
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const client = new Client({ name, version: '1.0.0' });
  return { client, transport, stderr, connected: client.connect(transport) };
}

const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;

beforeAll(async () => {
  h = await startServer();
});
afterAll(() => h.close());

describe('gatehouse mcp: the stdio entry point relays to the server', () => {
  it('lists, passes a low-risk call through, and holds a gated call until it is approved over GraphQL', async () => {
    const { client, connected } = await launch(TOKENS.developer);
    await connected;
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('gatehouse.run_status');

    const read = (await client.callTool({ name: 'file.read', arguments: { path: 'release-notes.md' } })) as CallToolResult;
    expect(read.isError).toBeFalsy();
    const runId = read._meta?.['gatehouse/runId'] as string;
    const started = (await h.app.store.readStream(`run-${runId}`)).find((e) => e.type === 'RunStarted');
    expect(started?.metadata.actor).toBe('user:alice');
    expect((started?.data as { goal: string }).goal).toMatch(/from desktop-client 1\.0\.0/);

    let seen: (id: string) => void = () => {};
    const approvalId = new Promise<string>((resolve) => (seen = resolve));
    const messages: string[] = [];
    const gated = client.callTool({ name: 'deploy.release', arguments: { environment: 'production', version: '3.0.0' } }, undefined, {
      resetTimeoutOnProgress: true,
      onprogress: (p) => {
        messages.push(p.message ?? '');
        const id = /waiting for approval (\S+):/.exec(p.message ?? '')?.[1];
        if (id) seen(id);
      },
    });
    const id = await approvalId;
    const res = await h.gql(TOKENS.tech_lead, 'mutation($input: ApproveInput!) { approve(input: $input) { approval { status } } }', { input: { approvalId: id, justification: 'go' } });
    expect(res.body.errors).toBeUndefined();
    const result = (await gated) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(JSON.parse(text(result))).toMatchObject({ released: '3.0.0' });
    expect(messages[0]).toBe(`waiting for approval ${id}: high risk, 0 of 1 approval`);

    expect(h.app.mcp.sessions()).toBe(1);
    await client.close();
    // Closing stdin ends the relay and the server-side session with it.
    await new Promise<void>((resolve) => {
      const check = () => (h.app.mcp.sessions() === 0 ? resolve() : setImmediate(check));
      check();
    });
  });

  it('answers the initialize with the server\'s refusal when the token is wrong, and says why on stderr', async () => {
    const { connected, stderr, transport } = await launch('wrong-token-000000000000');
    await expect(connected).rejects.toThrow(/401|unauthenticated/i);
    expect(stderr.join('')).toMatch(/401|unauthenticated/i);
    await transport.close();
  });

  it('exits with usage code 2 when GATEHOUSE_TOKEN is missing', async () => {
    const { connected, transport } = await launch(undefined);
    const exited = new Promise<number | null>((resolve) => (transport as unknown as { _process?: { once: (e: string, f: (c: number | null) => void) => void } })._process?.once('exit', resolve));
    await expect(connected).rejects.toThrow();
    expect(await exited).toBe(2);
  });
});
