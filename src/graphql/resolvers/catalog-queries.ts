import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import { z } from 'zod';
import type { ToolDefinition } from '../../orchestrator/tools/tool.js';
import { operationsOf } from '../auth/operations.js';
import type { GraphQLContext } from '../context.js';
import { Cursor, First, parseArgs } from '../parse.js';
import { pageOf } from '../types/connection.js';
import { Me, ProfileConnection, Tool, ToolConnection, WorkerConnection } from '../types/catalog.js';
import { readWorkers } from '../readers/workers.js';
import { principalOf } from './principal.js';
import { pageCost } from './run-queries.js';

const PageArgs = z.object({ first: First, after: Cursor.optional() });

/** What this Gatehouse offers: tools, workers, profiles, and who the caller is. */
@Resolver()
export class CatalogQueries {
  @Authorized()
  @Query(() => ToolConnection, { complexity: pageCost })
  tools(@Ctx() ctx: GraphQLContext, @Arg('first', () => Int, { nullable: true }) first?: number, @Arg('after', () => String, { nullable: true }) after?: string): ToolConnection {
    const a = parseArgs(PageArgs, { first, after }, 'tools');
    const all = ctx.services.tools.list().sort((x, y) => x.name.localeCompare(y.name)).map(toTool);
    return pageOf(all, a.first, a.after, 'tools') as ToolConnection;
  }

  @Authorized()
  @Query(() => WorkerConnection, { complexity: pageCost })
  workers(@Ctx() ctx: GraphQLContext, @Arg('first', () => Int, { nullable: true }) first?: number, @Arg('after', () => String, { nullable: true }) after?: string): WorkerConnection {
    const a = parseArgs(PageArgs, { first, after }, 'workers');
    return pageOf(readWorkers(ctx.services), a.first, a.after, 'workers') as WorkerConnection;
  }

  @Authorized()
  @Query(() => ProfileConnection, { complexity: pageCost })
  profiles(@Ctx() ctx: GraphQLContext, @Arg('first', () => Int, { nullable: true }) first?: number, @Arg('after', () => String, { nullable: true }) after?: string): ProfileConnection {
    const a = parseArgs(PageArgs, { first, after }, 'profiles');
    const all = Object.values(ctx.services.profiles).sort((x, y) => x.name.localeCompare(y.name));
    return pageOf(all, a.first, a.after, 'profiles') as ProfileConnection;
  }

  @Authorized()
  @Query(() => String, {
    nullable: true,
    description: 'The Ed25519 public key (PEM) that verifies signed approval decisions and run seals: what `gatehouse audit verify --public-key` pins. Signatures name it by key id, the SHA-256 of its DER (`gatehouse audit key-id`). Fetch it once over a channel you trust and keep it.',
  })
  auditPublicKey(@Ctx() ctx: GraphQLContext): string | null {
    return ctx.services.auditPublicKey ?? null;
  }

  @Authorized()
  @Query(() => Me, { description: 'The caller: principal, role and the operations it may call.' })
  me(@Ctx() ctx: GraphQLContext): Me {
    const p = principalOf(ctx);
    return { id: p.id, role: p.role, isAdmin: p.isAdmin, operations: operationsOf(p) };
  }
}

function toTool(t: ToolDefinition): Tool {
  const availability = t.availability?.() ?? { available: true };
  return {
    name: t.name,
    description: t.description,
    domain: t.domain,
    category: t.action.category,
    operation: typeof t.action.operation === 'string' ? t.action.operation : 'from input',
    environment: typeof t.action.environment === 'string' ? t.action.environment : undefined,
    idempotent: t.idempotent,
    timeoutMs: t.timeoutMs,
    tags: [...(t.tags ?? [])],
    requiresApproval: t.approval !== undefined,
    eligibleRoles: [...(t.approval?.eligibleRoles ?? [])],
    inputSchema: jsonSchemaOf(t),
    available: availability.available,
    unavailableReason: availability.reason,
  };
}

function jsonSchemaOf(t: ToolDefinition): unknown {
  try {
    return z.toJSONSchema(t.input, { unrepresentable: 'any' });
  } catch {
    return undefined; // a schema with transforms or refinements JSON Schema cannot say
  }
}
