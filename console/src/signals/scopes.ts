import type { ScopesData, SignalWindow } from './queries';

/** An option of the scope selector: its `goldenSignals` scope and what it reads as. */
export interface ScopeOption {
  readonly value: string;
  readonly label: string;
}

/** Overall first, then each tool, then each profile (sorted by name), as the API names the scopes. */
export function scopeOptions(data: ScopesData | undefined): ScopeOption[] {
  const tools = (data?.tools.edges ?? []).map((e) => e.node.name).sort();
  const profiles = (data?.profiles.edges ?? []).map((e) => e.node.name).sort();
  return [
    { value: 'overall', label: 'Overall' },
    ...tools.map((t) => ({ value: `tool:${t}`, label: `Tool ${t}` })),
    ...profiles.map((p) => ({ value: `profile:${p}`, label: `Profile ${p}` })),
  ];
}

/** The windows, in the order the table lists them. */
export const WINDOWS: ReadonlyArray<{ readonly value: SignalWindow; readonly label: string }> = [
  { value: 'LAST_5M', label: 'Last 5 minutes' },
  { value: 'LAST_1H', label: 'Last hour' },
  { value: 'ALL', label: 'All time' },
];

/** The screen's address state from `?scope=&window=`; anything unknown falls back to overall / last 5 minutes. */
export function parseSignalsSearch(search: string): { scope: string; window: SignalWindow } {
  const params = new URLSearchParams(search);
  const scope = params.get('scope')?.trim() || 'overall';
  const requested = params.get('window');
  const window = WINDOWS.find((w) => w.value === requested)?.value ?? 'LAST_5M';
  return { scope, window };
}

/** The address of the screen for a scope and window (defaults left out, so /signals stays /signals). */
export function signalsSearch(scope: string, window: SignalWindow): string {
  const params = new URLSearchParams();
  if (scope !== 'overall') params.set('scope', scope);
  if (window !== 'LAST_5M') params.set('window', window);
  const text = params.toString();
  return text ? `?${text}` : '';
}
