import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { McpServerConfig } from '../../src/orchestrator/tool-config.js';
import { builtFile } from './built.js';
import { type Child, spawnFixture } from './processes.js';

/** A log that keeps what a tool source says (tests assert on it). */
export function memoryLog() {
  const lines: Array<{ level: string; msg: string; obj: object }> = [];
  return {
    lines,
    info: (obj: object, msg: string) => void lines.push({ level: 'info', msg, obj }),
    warn: (obj: object, msg: string) => void lines.push({ level: 'warn', msg, obj }),
    error: (obj: object, msg: string) => void lines.push({ level: 'error', msg, obj }),
  };
}

/** The config of the stdio fixture server, recording into `dir`. */
export function stdioFixtureConfig(dir: string, extra: Record<string, unknown> = {}): McpServerConfig {
  return McpServerConfig.parse({
    transport: 'stdio',
    command: process.execPath,
    args: [builtFile('test/fixtures/mcp/stdio-server.ts')],
    env: { MCP_FIXTURE_LOG: join(dir, 'calls.jsonl'), MCP_FIXTURE_STATE: dir },
    reconnect: { baseDelayMs: 50, maxDelayMs: 400 },
    ...extra,
  });
}

/** The Streamable HTTP fixture server as a child process, and its URL. */
export async function startHttpFixture(dir: string, env: NodeJS.ProcessEnv = {}): Promise<{ child: Child; url: string }> {
  const child = spawnFixture('test/fixtures/mcp/http-server.ts', [], { MCP_FIXTURE_LOG: join(dir, 'calls.jsonl'), MCP_FIXTURE_STATE: dir, ...env });
  const line = await child.waitForLine(/^listening \d+/);
  return { child, url: `http://127.0.0.1:${line.split(' ')[1]}/mcp` };
}

/** The tools/call requests the fixture recorded. */
export function fixtureCalls(dir: string): Array<{ tool: string; args: Record<string, unknown>; idempotencyKey?: string; pid: number }> {
  const file = join(dir, 'calls.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { tool: string; args: Record<string, unknown>; idempotencyKey?: string; pid: number });
}

/** Polls `check` until it holds (the condition, not a fixed sleep, is what tests wait for). */
export async function until(check: () => boolean | Promise<boolean>, what = 'a condition', timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
