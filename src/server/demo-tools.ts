import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineTool, ToolError, type ToolDefinition } from '../orchestrator/tools/tool.js';
import type { Playbook } from '../orchestrator/profiles.js';

const APPROVERS = ['tech_lead', 'devops_engineer'];

/** Waits `ms`, or fails as a cancellation when the call is aborted. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw new ToolError('SYSTEM', 'aborted');
  }
}

/**
 * Tools a newcomer can try without touching a real system: read a file from a sandbox folder,
 * a simulated deploy to an environment (needs approval), a simulated database statement (needs
 * approval). `delayMs` makes the simulated work take visible time.
 */
export function demoTools(dataDir: string, delayMs = 300): ToolDefinition[] {
  const sandbox = join(dataDir, 'demo-files');
  mkdirSync(sandbox, { recursive: true });
  const notes = join(sandbox, 'release-notes.md');
  if (!existsSync(notes)) writeFileSync(notes, '# Release 1.4\n\n- faster approvals\n- audit replay\n');

  const fileRead = defineTool({
    name: 'file.read',
    description: `Reads a text file from the demo sandbox (${sandbox}).`,
    input: z.object({ path: z.string().min(1).max(500) }),
    domain: 'files',
    action: { category: 'file', operation: 'read' },
    idempotent: true,
    timeoutMs: 5_000,
    handler: async (input) => {
      const target = resolve(sandbox, input.path);
      if (relative(sandbox, target).startsWith('..') || target === sandbox) throw new ToolError('USER', 'the path leaves the sandbox');
      if (!existsSync(target)) throw new ToolError('USER', `no file ${input.path}`);
      const text = readFileSync(target, 'utf8');
      return { path: input.path, bytes: Buffer.byteLength(text), text: text.slice(0, 10_000) };
    },
  });

  const deploy = defineTool({
    name: 'deploy.release',
    description: 'Simulates releasing a version to an environment.',
    input: z.object({ environment: z.enum(['dev', 'staging', 'production']), version: z.string().min(1).max(50) }),
    domain: 'deploys',
    action: { category: 'deploy', operation: 'release', environment: (i) => String(i.environment) },
    idempotent: false,
    timeoutMs: 30_000,
    approval: { eligibleRoles: APPROVERS },
    handler: async (input, ctx) => {
      await pause(delayMs, ctx.signal);
      return { released: input.version, environment: input.environment, deploymentId: ctx.idempotencyKey };
    },
  });

  const dbStatement = defineTool({
    name: 'db.execute',
    description: 'Simulates running a SQL statement against a database.',
    input: z.object({ database: z.string().min(1).max(100), statement: z.string().min(1).max(10_000) }),
    domain: 'databases',
    // Risk per call: the statement's verb decides (DELETE is critical, SELECT low).
    action: { category: 'db', operation: (i) => sqlVerb(String(i.statement ?? '')) },
    idempotent: false,
    timeoutMs: 10_000,
    approval: { eligibleRoles: APPROVERS },
    handler: async (input, ctx) => {
      await pause(delayMs, ctx.signal);
      const verb = sqlVerb(input.statement);
      return { database: input.database, verb, rowsAffected: verb === 'select' ? 0 : 3 };
    },
  });

  return [fileRead, deploy, dbStatement];
}

const VERBS_BY_RISK = ['drop', 'truncate', 'delete', 'alter', 'update', 'merge', 'insert', 'select'] as const;

/**
 * The riskiest SQL verb anywhere in a statement, as a whole word, so `SELECT 1; DELETE FROM users`
 * is a delete; nothing recognised is `unknown` (judged by the policy's catch-all rule, never low).
 * Errs on the strict side: a verb inside a string literal counts too.
 */
export function sqlVerb(statement: string): string {
  const words = new Set(statement.toLowerCase().match(/[a-z_]+/g) ?? []);
  return VERBS_BY_RISK.find((v) => words.has(v)) ?? 'unknown';
}

/** A playbook over the demo tools: read the release notes, then deploy (which waits for approval). */
export const demoPlaybooks: Playbook[] = [
  {
    name: 'release',
    description: 'Reads the release notes, then deploys a version to an environment.',
    params: ['environment', 'version'],
    steps: [
      { id: 'notes', tool: 'file.read', input: { path: 'release-notes.md' }, domain: 'files', dependsOn: [] },
      { id: 'deploy', tool: 'deploy.release', input: { environment: '{{environment}}', version: '{{version}}' }, domain: 'deploys', dependsOn: ['notes'] },
    ],
  },
];
