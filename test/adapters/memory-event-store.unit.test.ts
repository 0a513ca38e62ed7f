import { createMemoryEventStore } from '../../src/adapters/eventstore/memory/memory-event-store.js';
import { describeEventStoreContract } from '../contracts/event-store.contract.js';

describeEventStoreContract('memory', async (options) => {
  const store = createMemoryEventStore(options);
  return { store, cleanup: () => store.close() };
});
