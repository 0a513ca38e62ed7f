import { z } from 'zod';
import { BudgetLimits, ErrorStrategy, RoutingPolicyName } from '../domain/events/common.js';
import { ValidationError } from '../domain/errors.js';
import { PlannedStep } from '../domain/events/run-events.js';

/** A profile: which tools a run may use, its budget and how it behaves. */
export const Profile = z.object({
  name: z.string().min(1),
  /** Tool-name patterns this profile may call (`*` = any). */
  allowedTools: z.array(z.string()).default(['*']),
  budget: BudgetLimits,
  errorStrategy: ErrorStrategy,
  maxParallel: z.number().int().positive(),
  routing: RoutingPolicyName,
});
export type Profile = z.infer<typeof Profile>;

/** Built-in profiles: strict and small for enterprise, modest for smb, generous for technical users. */
export const defaultProfiles: Record<string, Profile> = {
  enterprise: Profile.parse({
    name: 'enterprise',
    budget: { totalCalls: 100, onExceed: 'block' },
    errorStrategy: 'FAIL_FAST',
    maxParallel: 4,
    routing: 'capability',
  }),
  smb: Profile.parse({
    name: 'smb',
    budget: { totalCalls: 30, onExceed: 'block' },
    errorStrategy: 'RETRY',
    maxParallel: 2,
    routing: 'round_robin',
  }),
  technical: Profile.parse({
    name: 'technical',
    budget: { totalCalls: 500, onExceed: 'warn' },
    errorStrategy: 'RETRY',
    maxParallel: 8,
    routing: 'least_loaded',
  }),
};

/** A worker: a named executor with capabilities and a concurrency limit. */
export const WorkerConfig = z.object({
  name: z.string().min(1),
  tools: z.array(z.string()).default(['*']),
  tags: z.array(z.string()).default([]),
  concurrency: z.number().int().positive().default(16),
});
export type WorkerConfig = z.infer<typeof WorkerConfig>;

export const defaultWorkers: WorkerConfig[] = [WorkerConfig.parse({ name: 'local' })];

/** A playbook: a named template of steps; `{{param}}` in string inputs is replaced by a parameter. */
export const Playbook = z.object({
  name: z.string().min(1),
  description: z.string().default(''),
  params: z.array(z.string()).default([]),
  steps: z.array(PlannedStep).min(1),
});
export type Playbook = z.infer<typeof Playbook>;

/** The steps of a playbook with its parameters filled in; a missing or unknown parameter is refused. */
export function expandPlaybook(playbook: Playbook, params: Record<string, string>): PlannedStep[] {
  const missing = playbook.params.filter((p) => !(p in params));
  if (missing.length > 0) throw new ValidationError(`playbook ${playbook.name} needs parameter(s): ${missing.join(', ')}`);
  const unknown = Object.keys(params).filter((p) => !playbook.params.includes(p));
  if (unknown.length > 0) throw new ValidationError(`playbook ${playbook.name} has no parameter(s): ${unknown.join(', ')}`);
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') return value.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_, name: string) => params[name] ?? '');
    if (Array.isArray(value)) return value.map(fill);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  return playbook.steps.map((s) => ({ ...s, input: fill(s.input) as Record<string, unknown> }));
}
