import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { authChecker } from './auth/auth-checker.js';
import { AuditQueries } from './resolvers/audit-queries.js';
import { ApprovalMutations } from './resolvers/approval-mutations.js';
import { ApprovalNotificationFields } from './resolvers/approval-notifications.js';
import { ApprovalQueries } from './resolvers/approval-queries.js';
import { CatalogQueries } from './resolvers/catalog-queries.js';
import { ObservabilityQueries } from './resolvers/observability-queries.js';
import { RunMutations } from './resolvers/run-mutations.js';
import { RunConnectionFields, RunFields, RunQueries } from './resolvers/run-queries.js';
import { LiveSubscriptions } from './resolvers/subscriptions.js';

/**
 * type-graphql refuses to build a schema with subscriptions and no pubSub (MissingPubSubError),
 * even when every subscription brings its own `subscribe`: this one is never used.
 */
const unusedPubSub: PubSub = {
  publish: () => {
    throw new Error('Gatehouse subscriptions read the event log; nothing publishes');
  },
  subscribe: () => {
    throw new Error('Gatehouse subscriptions read the event log; nothing subscribes by topic');
  },
};

let built: Promise<GraphQLSchema> | undefined;

/** The Gatehouse schema, built once per process from the type-graphql classes. */
export function gatehouseSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: [RunQueries, RunFields, RunConnectionFields, ApprovalQueries, ApprovalNotificationFields, ObservabilityQueries, CatalogQueries, AuditQueries, RunMutations, ApprovalMutations, LiveSubscriptions],
    authChecker,
    authMode: 'error',
    pubSub: unusedPubSub,
    validate: false,
  });
  return built;
}
