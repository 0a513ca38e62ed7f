import type { GatehouseServices } from '../context.js';
import type { Worker } from '../types/catalog.js';

/** The configured workers, each with its calls in flight across the instances on the store (from the log). */
export function readWorkers(services: GatehouseServices): Worker[] {
  const load = services.workerLoad?.() ?? [];
  return services.workers.map((w) => {
    const instances = load.filter((l) => l.worker === w.name).map((l) => ({ instance: l.instance ?? null, inFlight: l.inFlight }));
    return { name: w.name, tools: [...w.tools], tags: [...w.tags], concurrency: w.concurrency, inFlight: instances.reduce((n, l) => n + l.inFlight, 0), instances };
  });
}
