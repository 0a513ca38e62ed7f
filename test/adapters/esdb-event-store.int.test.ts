import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEsdbEventStore } from '../../src/adapters/eventstore/esdb/esdb-event-store.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { describeEventStoreContract } from '../contracts/event-store.contract.js';
import { runStarted, stepSucceeded } from '../support/events.js';
import { type EsdbDouble, startEsdbDouble } from '../support/esdb-double/server.js';
import { take } from '../support/store-harness.js';

// Each harness gets its own double: a fresh log, as the memory and SQLite harnesses get.
describeEventStoreContract('EventStoreDB over the gRPC double', async (options) => {
  const double = await startEsdbDouble();
  const store = createEsdbEventStore({ connectionString: double.connectionString, ...options });
  const reopened: EventStore[] = [];
  return {
    store,
    reopen: async (more) => {
      const s = createEsdbEventStore({ connectionString: double.connectionString, ...options, ...more });
      reopened.push(s);
      return s;
    },
    cleanup: async () => {
      await Promise.all([store, ...reopened].map((s) => s.close()));
      double.close();
    },
  };
});
