/**
 * One Gatehouse server for `npm run bench -- cluster`: composed as `npm start` composes it
 * (startGatehouse), with two bench tools instead of the demo tools. Environment as the server's.
 */
import 'reflect-metadata';
import { pino } from 'pino';
import { z } from 'zod';
import { onShutdownSignals } from '../../src/orchestrator/shutdown.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { startGatehouse } from '../../src/server/app.js';
import { readEnv } from '../../src/server/env.js';

const Any = z.record(z.string(), z.unknown());
const tools = [
  defineTool({ name: 'bench.read', description: 'answers at once', input: Any, domain: 'bench', idempotent: true, timeoutMs: 5_000, action: { category: 'file', operation: 'read' }, handler: () => ({ ok: true }) }),
  defineTool({ name: 'bench.pay', description: 'gated, answers at once', input: Any, domain: 'bench', idempotent: false, timeoutMs: 5_000, action: { category: 'payment', operation: 'write' }, approval: { eligibleRoles: ['tech_lead'] }, handler: () => ({ paid: true }) }),
  // Never answers: the takeover measure kills the instance that claimed it.
  defineTool({ name: 'bench.hang', description: 'hangs until its timeout', input: Any, domain: 'bench', idempotent: true, timeoutMs: 1_000, action: { category: 'file', operation: 'read' }, handler: (_i, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true })) }),
];
const env = readEnv();
const log = pino({ level: env.logLevel });
const app = await startGatehouse({ env, log, tools, demoTools: false });
onShutdownSignals(app.stop, (message) => log.info(message));
process.stdout.write(`gatehouse ready on http://127.0.0.1:${app.server.port}/graphql\n`);
