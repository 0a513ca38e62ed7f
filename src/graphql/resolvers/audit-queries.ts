import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import { exportRun, verifyStoredRun } from '../../orchestrator/audit-export.js';
import { OPERATION_ROLES } from '../auth/operations.js';
import type { GraphQLContext } from '../context.js';
import { parseArgs, RunIdArg } from '../parse.js';
import { AuditVerification } from '../types/audit.js';

// Both read a whole stream, as `Run.trace` does: counted the same.
const streamCost = ({ childComplexity }: { childComplexity: number }) => 1 + 100 * Math.max(childComplexity, 1);

/** A run's audit chain through the API: its verification with the server's key, and its export. */
@Resolver()
export class AuditQueries {
  @Authorized()
  @Query(() => AuditVerification, { complexity: streamCost, description: 'Checks a run\'s audit chain with the server\'s own public key: chain, grants, signatures, seal (an unfinished run is reported unsealed). A run with no events is NOT_FOUND, as for `run` and `runEvents`.' })
  async auditVerification(@Arg('runId', () => ID) runId: string, @Ctx() ctx: GraphQLContext): Promise<AuditVerification> {
    const id = parseArgs(RunIdArg, runId, 'runId');
    const keys = ctx.services.auditPublicKey ? [ctx.services.auditPublicKey] : [];
    return { runId: id, ...(await verifyStoredRun(ctx.services.store, id, keys)) };
  }

  @Authorized(OPERATION_ROLES.auditExport)
  @Query(() => String, { complexity: streamCost, description: 'A run\'s stream as JSON Lines, the same as `gatehouse audit export <runId>` (a header with the server\'s public key, then one event a line with its metadata: hash, signatures, seal). Holds payloads: not for viewers.' })
  async auditExport(@Arg('runId', () => ID) runId: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    const id = parseArgs(RunIdArg, runId, 'runId');
    return exportRun(ctx.services.store, id, { publicKeyPem: ctx.services.auditPublicKey, now: new Date(ctx.services.now()) });
  }
}
