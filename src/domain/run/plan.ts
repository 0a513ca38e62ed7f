import { ValidationError } from '../errors.js';
import type { PlannedStep } from '../events/run-events.js';

/** Refuses a plan with duplicate ids, a dependency on a missing step, or a cycle. */
export function validatePlan(steps: readonly Pick<PlannedStep, 'id' | 'dependsOn'>[]): void {
  if (steps.length === 0) throw new ValidationError('a plan needs at least one step');
  const ids = new Set<string>();
  for (const step of steps) {
    if (ids.has(step.id)) throw new ValidationError(`plan has two steps with id "${step.id}"`, { stepId: step.id });
    ids.add(step.id);
  }
  for (const step of steps) {
    for (const dep of step.dependsOn) {
      if (!ids.has(dep)) {
        throw new ValidationError(`step "${step.id}" depends on "${dep}", which is not in the plan`, { stepId: step.id, dependsOn: dep });
      }
      if (dep === step.id) throw new ValidationError(`step "${step.id}" depends on itself`, { stepId: step.id });
    }
  }
  const cycle = findCycle(steps);
  if (cycle) throw new ValidationError(`plan has a dependency cycle: ${cycle.join(' -> ')}`, { cycle });
}

/** A cycle as a path of step ids (first = last), or undefined. Iterative DFS with colours. */
function findCycle(steps: readonly Pick<PlannedStep, 'id' | 'dependsOn'>[]): string[] | undefined {
  const deps = new Map(steps.map((s) => [s.id, s.dependsOn]));
  const colour = new Map<string, 'grey' | 'black'>();
  for (const root of deps.keys()) {
    if (colour.has(root)) continue;
    const path: string[] = [];
    const stack: Array<{ id: string; next: number }> = [{ id: root, next: 0 }];
    colour.set(root, 'grey');
    path.push(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { id: string; next: number };
      const children = deps.get(top.id) ?? [];
      if (top.next < children.length) {
        const child = children[top.next++] as string;
        const c = colour.get(child);
        if (c === 'grey') return [...path.slice(path.indexOf(child)), child];
        if (c === undefined) {
          colour.set(child, 'grey');
          path.push(child);
          stack.push({ id: child, next: 0 });
        }
      } else {
        colour.set(top.id, 'black');
        path.pop();
        stack.pop();
      }
    }
  }
  return undefined;
}

/** Every step that depends, directly or not, on `stepId`. */
export function dependentsOf(steps: readonly Pick<PlannedStep, 'id' | 'dependsOn'>[], stepId: string): string[] {
  const out = new Set<string>();
  let frontier = [stepId];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const s of steps) {
      if (!out.has(s.id) && s.dependsOn.some((d) => frontier.includes(d))) {
        out.add(s.id);
        next.push(s.id);
      }
    }
    frontier = next;
  }
  return [...out];
}
