import { describe, expect, it } from 'vitest';
import { capabilityScore, matchesPattern, route, type WorkerView } from '../../src/domain/routing/route.js';

const worker = (name: string, tools: string[], over: Partial<WorkerView> = {}): WorkerView => ({ name, tools, tags: [], concurrency: 4, inFlight: 0, ...over });
const workers = [worker('generic', ['*']), worker('deployer', ['deploy.*'], { tags: ['prod'] }), worker('exact', ['deploy.release'], { inFlight: 3 })];

describe('routing', () => {
  it('matches `*` patterns whole, with regex characters taken literally', () => {
    expect(matchesPattern('deploy.*', 'deploy.release')).toBe(true);
    expect(matchesPattern('deploy.*', 'deployXrelease')).toBe(false);
    expect(matchesPattern('db', 'db.query')).toBe(false);
    expect(matchesPattern('*.query', 'db.query')).toBe(true);
  });

  it('scores an exact name over a pattern over `*`; required tags must all be present', () => {
    const req = { tool: 'deploy.release', tags: [] };
    expect(capabilityScore(workers[2] as WorkerView, req)).toBeGreaterThan(capabilityScore(workers[1] as WorkerView, req));
    expect(capabilityScore(workers[1] as WorkerView, req)).toBeGreaterThan(capabilityScore(workers[0] as WorkerView, req));
    expect(capabilityScore(workers[0] as WorkerView, { tool: 'x', tags: ['prod'] })).toBe(0);
  });

  it('capability picks the best fit and records every rejected alternative with its score', () => {
    const d = route('capability', workers, { tool: 'deploy.release', tags: [] }, 0);
    expect(d).toMatchObject({ ok: true, worker: 'exact', policy: 'capability' });
    if (!d.ok) throw new Error('unreachable');
    expect(d.reasoning).toMatch(/best capability match/);
    expect(d.alternatives.map((a) => a.worker)).toEqual(['generic', 'deployer']);
    expect(d.alternatives.every((a) => a.score > 0 && a.reason === 'capable, not chosen')).toBe(true);
  });

  it('least_loaded picks the capable worker with the most free share', () => {
    const d = route('least_loaded', workers, { tool: 'deploy.release', tags: [] }, 0);
    expect(d).toMatchObject({ ok: true, worker: 'generic' });
  });

  it('round_robin cycles over the capable workers only', () => {
    const picks = [0, 1, 2, 3].map((turn) => route('round_robin', workers, { tool: 'db.query', tags: [] }, turn));
    expect(picks.map((p) => (p.ok ? p.worker : '-'))).toEqual(['generic', 'generic', 'generic', 'generic']);
    const deploys = [0, 1, 2, 3].map((turn) => route('round_robin', workers, { tool: 'deploy.release', tags: [] }, turn));
    expect(deploys.map((p) => (p.ok ? p.worker : '-'))).toEqual(['generic', 'deployer', 'exact', 'generic']);
    const d = deploys[1];
    if (!d?.ok) throw new Error('unreachable');
    expect(d.alternatives).toEqual([{ worker: 'generic', score: 0, reason: 'capable, not chosen' }, { worker: 'exact', score: 0, reason: 'capable, not chosen' }]);
  });

  it('no capable worker is a refusal with the reason', () => {
    expect(route('capability', workers, { tool: 'gpu.train', tags: ['gpu'] }, 0)).toEqual({ ok: false, reason: 'no worker can run gpu.train with tags gpu' });
  });
});
