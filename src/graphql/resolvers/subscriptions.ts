import { Arg, Authorized, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import { NotFoundError } from '../../domain/errors.js';
import { runStreamId } from '../../domain/run/state.js';
import type { GraphQLContext } from '../context.js';
import { approvalsFeed } from '../live/approvals-feed.js';
import { runEventsFeed, runProgressFeed } from '../live/run-feeds.js';
import { Cursor, parseArgs, RunIdArg } from '../parse.js';
import { ApprovalChange } from '../types/approval.js';
import { Run } from '../types/run.js';
import { RunEvent } from '../types/run-event.js';
import { principalOf } from './principal.js';

type Data = SubscribeResolverData<unknown, Record<string, unknown>, GraphQLContext>;

async function existingRun(data: Data): Promise<string> {
  const runId = parseArgs(RunIdArg, data.args.runId, 'runId');
  const [first] = await data.context.services.store.readStream(runStreamId(runId), { maxCount: 1 });
  if (!first) throw new NotFoundError(`no run ${runId}`, { runId });
  return runId;
}

/** Live feeds over graphql-ws. Each is released at once when the client completes or leaves. */
@Resolver()
export class LiveSubscriptions {
  @Authorized()
  @Subscription(() => RunEvent, {
    description: 'A run\'s events after `after` (a cursor), then live. Each carries its cursor: reconnect with the last one to miss nothing and see nothing twice.',
    subscribe: async (data: Data) => {
      const runId = await existingRun(data);
      const after = parseArgs(Cursor.optional(), data.args.after, 'after');
      return runEventsFeed(data.context.services, runId, after);
    },
  })
  runEvents(@Root() event: RunEvent, @Arg('runId', () => ID) _runId: string, @Arg('after', () => String, { nullable: true }) _after?: string): RunEvent {
    return event;
  }

  @Authorized()
  @Subscription(() => Run, {
    description: 'The run\'s read model (progress, stage, steps): first as it is now, then after each of its events.',
    // runProgressFeed reads the run's newest event anyway and refuses a missing run with the same
    // error: no separate existence read (one store read and decode fewer per subscription).
    subscribe: async (data: Data) => runProgressFeed(data.context.services, parseArgs(RunIdArg, data.args.runId, 'runId')),
  })
  runProgress(@Root() run: Run, @Arg('runId', () => ID) _runId: string): Run {
    return run;
  }

  @Authorized()
  @Subscription(() => ApprovalChange, {
    description: 'Changes to open approvals the caller may see (its role may decide them, or it requested them; admins and viewers see all).',
    subscribe: (data: Data) => approvalsFeed(data.context.services, principalOf(data.context)),
  })
  approvalsChanged(@Root() change: ApprovalChange): ApprovalChange {
    return change;
  }
}

