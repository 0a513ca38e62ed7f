import type { RoutingPolicyName } from '../events/common.js';

/** A worker as routing sees it: what it can run and how busy it is. */
export interface WorkerView {
  readonly name: string;
  /** Tool-name patterns it runs (`*` matches any run of characters). */
  readonly tools: readonly string[];
  readonly tags: readonly string[];
  readonly concurrency: number;
  readonly inFlight: number;
}

export interface RoutingRequest {
  readonly tool: string;
  /** Tags the tool asks for; a capable worker has all of them. */
  readonly tags: readonly string[];
}

export type RoutingDecision =
  | {
      readonly ok: true;
      readonly worker: string;
      readonly policy: RoutingPolicyName;
      readonly reasoning: string;
      readonly alternatives: Array<{ worker: string; score: number; reason: string }>;
    }
  | { readonly ok: false; readonly reason: string };

/** Whether a `*` pattern matches a name, whole. */
export function matchesPattern(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*')) return pattern === name;
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return re.test(name);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** How well a worker fits a tool: exact name 100, pattern by its literal length, 0 = cannot run it. */
export function capabilityScore(worker: WorkerView, request: RoutingRequest): number {
  if (!request.tags.every((t) => worker.tags.includes(t))) return 0;
  let best = 0;
  for (const pattern of worker.tools) {
    if (!matchesPattern(pattern, request.tool)) continue;
    const score = pattern === request.tool ? 100 : 1 + Math.min(98, pattern.replaceAll('*', '').length);
    best = Math.max(best, score);
  }
  return best + (best > 0 ? request.tags.length : 0);
}

/**
 * Picks a worker by policy and says why, with every rejected alternative and its score. Pure:
 * `turn` is the round-robin counter the caller keeps.
 */
export function route(policy: RoutingPolicyName, workers: readonly WorkerView[], request: RoutingRequest, turn: number): RoutingDecision {
  const scored = workers.map((w) => ({ w, capability: capabilityScore(w, request) }));
  const capable = scored.filter((s) => s.capability > 0);
  if (capable.length === 0) {
    return { ok: false, reason: `no worker can run ${request.tool}${request.tags.length ? ` with tags ${request.tags.join(', ')}` : ''}` };
  }
  let chosen: (typeof capable)[number];
  let reasoning: string;
  let score: (s: (typeof capable)[number]) => number;
  switch (policy) {
    case 'round_robin': {
      chosen = capable[turn % capable.length] as (typeof capable)[number];
      reasoning = `round robin: turn ${turn} of ${capable.length} capable workers`;
      score = (s) => (s === chosen ? 1 : 0);
      break;
    }
    case 'capability': {
      score = (s) => s.capability;
      chosen = capable.reduce((a, b) => (score(b) > score(a) ? b : a));
      reasoning = `best capability match for ${request.tool} (score ${chosen.capability})`;
      break;
    }
    case 'least_loaded': {
      score = (s) => 1 - s.w.inFlight / Math.max(1, s.w.concurrency);
      chosen = capable.reduce((a, b) => (score(b) > score(a) ? b : a));
      reasoning = `least loaded: ${chosen.w.inFlight}/${chosen.w.concurrency} calls in flight`;
      break;
    }
  }
  const alternatives = scored
    .filter((s) => s !== chosen)
    .map((s) => ({
      worker: s.w.name,
      score: s.capability > 0 ? Math.round(score(s) * 1000) / 1000 : 0,
      reason: s.capability > 0 ? 'capable, not chosen' : `cannot run ${request.tool}`,
    }));
  return { ok: true, worker: chosen.w.name, policy, reasoning, alternatives };
}
