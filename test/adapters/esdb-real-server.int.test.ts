/**
 * The same contract suite against a real EventStoreDB, opt-in: ESDB_URL=esdb://localhost:2113?tls=false.
 * A real server cannot be emptied between tests, so each harness writes under its own stream
 * namespace and sees only that (see EsdbEventStoreOptions.namespace).
 */
import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import { createEsdbEventStore } from '../../src/adapters/eventstore/esdb/esdb-event-store.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { describeEventStoreContract } from '../contracts/event-store.contract.js';

const url = process.env.ESDB_URL;

if (url) {
  describeEventStoreContract(`EventStoreDB server at ${url}`, async (options) => {
    const namespace = `ct${randomUUID().replaceAll('-', '').slice(0, 12)}_`;
    const store = createEsdbEventStore({ connectionString: url, namespace, ...options });
    const reopened: EventStore[] = [];
    return {
      store,
      reopen: async (more) => {
        const s = createEsdbEventStore({ connectionString: url, namespace, ...options, ...more });
        reopened.push(s);
        return s;
      },
      cleanup: async () => {
        await Promise.all([store, ...reopened].map((s) => s.close()));
      },
    };
  });
} else {
  console.info('ESDB_URL is not set: the contract suite is NOT being run against a real EventStoreDB (skipped).');
  describe('EventStore contract: a real EventStoreDB server', () => {
    it.skip('SKIPPED: no real EventStoreDB was tested; set ESDB_URL=esdb://host:2113?tls=false to run the contract suite against one', () => {});
  });
}
