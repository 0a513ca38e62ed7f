/**
 * The runs list's filters as they live in the URL's query string (so a filtered list is a link),
 * and as the `runs(filter:)` query takes them. Times travel as ISO instants in the URL (the same
 * link means the same range in every time zone) and are shown as local times in the inputs.
 */

/** The run statuses `RunsFilter.status` accepts (schema.graphql `RunStatus`). */
export const RUN_STATUSES = ['RUNNING', 'SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** What the list is filtered by; every field optional. `after` is the page cursor. */
export interface RunsFilterState {
  readonly status?: RunStatus;
  readonly profile?: string;
  readonly requester?: string;
  /** ISO instant: started at or after. */
  readonly from?: string;
  /** ISO instant: started before. */
  readonly to?: string;
  readonly after?: string;
}

const KEYS = ['status', 'profile', 'requester', 'from', 'to', 'after'] as const;

/** Reads the filters from a query string; a value that cannot be one is dropped and named in `problems`. */
export function parseFilters(search: string): { filter: RunsFilterState; problems: string[] } {
  const params = new URLSearchParams(search);
  const out: { -readonly [K in keyof RunsFilterState]: RunsFilterState[K] } = {};
  const problems: string[] = [];
  const status = params.get('status')?.trim();
  if (status) {
    if ((RUN_STATUSES as readonly string[]).includes(status)) out.status = status as RunStatus;
    else problems.push(`unknown status "${status}"`);
  }
  for (const key of ['profile', 'requester', 'after'] as const) {
    const value = params.get(key)?.trim();
    if (value) out[key] = value;
  }
  for (const key of ['from', 'to'] as const) {
    const value = params.get(key)?.trim();
    if (!value) continue;
    const time = Date.parse(value);
    if (Number.isNaN(time)) problems.push(`"${value}" is not a time (${key})`);
    else out[key] = new Date(time).toISOString();
  }
  if (out.from && out.to && out.from >= out.to) problems.push('the range ends before it starts');
  return { filter: out, problems };
}

/** The query string for a filter state (stable key order, empty values left out), with its `?`. */
export function filtersToSearch(filter: RunsFilterState): string {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    const value = filter[key];
    if (value) params.set(key, value);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Changes some filters; any change of what is listed goes back to the first page. */
export function withFilter(filter: RunsFilterState, change: Partial<Record<keyof RunsFilterState, string | undefined>>): RunsFilterState {
  const next: Record<string, string | undefined> = { ...filter, ...change };
  if (!('after' in change)) delete next.after;
  for (const key of Object.keys(next)) if (!next[key]) delete next[key];
  return next as RunsFilterState;
}

/** The `runs` query's variables for a filter state. */
export function runsVariables(filter: RunsFilterState, first: number): { filter: Record<string, string>; first: number; after?: string } {
  const f: Record<string, string> = {};
  if (filter.status) f.status = filter.status;
  if (filter.profile) f.profile = filter.profile;
  if (filter.requester) f.requester = filter.requester;
  if (filter.from) f.startedAfter = filter.from;
  if (filter.to) f.startedBefore = filter.to;
  return { filter: f, first, ...(filter.after ? { after: filter.after } : {}) };
}

/** An ISO instant as a `datetime-local` input value in the browser's zone ('' for none). */
export function isoToLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A `datetime-local` input value (local time) as an ISO instant (undefined for empty or invalid). */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const time = new Date(value).getTime();
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}
