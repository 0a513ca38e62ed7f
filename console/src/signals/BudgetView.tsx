import { useQuery } from 'urql';
import { Link } from 'wouter';
import { allTimeText, type BudgetBar, profileBars, runBars } from './budget-bars';
import { describeError, useEvery } from './hooks';
import { BUDGET_QUERY, type Budget, type ProfileBudgetConfig } from './queries';

/** How often a budgets view asks again: usage moves with every call of a live run. */
export const BUDGET_REFRESH_MS = 3_000;

/** One bar with its numbers and its state in words (colour is never the only sign). */
export function BudgetLineView(props: { bar: BudgetBar; extra?: string }) {
  const { bar } = props;
  return (
    <div className="budget-line" data-testid={`budget-${bar.scope}`} data-state={bar.state}>
      <span>{bar.label}</span>
      <div
        className={`budget-bar ${bar.state}`}
        role="meter"
        aria-label={bar.label}
        aria-valuemin={0}
        aria-valuemax={bar.limit ?? bar.used}
        aria-valuenow={bar.used}
        aria-valuetext={`${bar.text}; ${bar.stateText}`}
      >
        <div className="fill" style={{ width: `${bar.fill}%` }} />
        {bar.limit !== null && <div className="mark" title="80 %: BudgetWarning" />}
      </div>
      <span className="numbers">
        {bar.text} <span className={`state state-${bar.state}`}>{bar.state === 'ok' || bar.state === 'unlimited' ? '' : bar.stateText}</span>
        {props.extra && <span className="budget-counters"><br />{props.extra}</span>}
      </span>
    </div>
  );
}

function useBudget(scope: { runId: string } | { profile: string }) {
  const [result, reexecute] = useQuery<{ budget: Budget }>({ query: BUDGET_QUERY, variables: { scope }, requestPolicy: 'network-only' });
  useEvery(BUDGET_REFRESH_MS, reexecute as () => void);
  return result;
}

/** A run's budget: its calls against its own limits. */
export function RunBudget(props: { runId: string }) {
  const result = useBudget({ runId: props.runId });
  const failure = result.error ? describeError(result.error) : undefined;
  const budget = result.data?.budget;
  return (
    <section className="card budget-scope" aria-labelledby="run-budget-title">
      <h2 id="run-budget-title">Run <Link href={`/runs/${encodeURIComponent(props.runId)}`}>{props.runId}</Link></h2>
      {failure && (failure.notFound
        ? <p className="notice" role="status">No budget recorded for this run (is the id right? a run has one from its first event).</p>
        : <p role="alert" className="error">{failure.message}</p>)}
      {!budget && !failure && <p className="loading" role="status">Loading the run's budget…</p>}
      {budget && (
        <>
          <p className="notice">Profile {budget.profile}.</p>
          <div className="budget-lines" aria-live="polite">
            {runBars(budget).map((bar) => {
              const action = budget.lines.find((l) => l.scope === bar.scope)?.action;
              return <BudgetLineView key={bar.scope} bar={bar} {...(action ? { extra: action === 'block' ? 'a call past the limit was blocked' : 'calls past the limit went on, with a warning' } : {})} />;
            })}
          </div>
        </>
      )}
    </section>
  );
}

/** Per-run limits of a profile in words: "per run: 100 calls in total; over the limit: block". */
export function limitsText(config: ProfileBudgetConfig['budget']): string {
  const parts: string[] = [];
  if (config.totalCalls !== undefined) parts.push(`${config.totalCalls} calls in total`);
  for (const [d, n] of Object.entries(config.perDomain ?? {})) parts.push(`${n} in domain ${d}`);
  for (const [t, n] of Object.entries(config.perTool ?? {})) parts.push(`${n} of tool ${t}`);
  return `Per run: ${parts.length ? parts.join(', ') : 'no limit'}${config.onExceed ? `; over the limit: ${config.onExceed}` : ''}.`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A profile's budget: calls over all time, and its live runs' use against their limits. */
export function ProfileBudget(props: { profile: ProfileBudgetConfig }) {
  const { name } = props.profile;
  const result = useBudget({ profile: name });
  const failure = result.error ? describeError(result.error) : undefined;
  const budget = result.data?.budget;
  const titleId = `profile-budget-${name}`;
  return (
    <section className="card budget-scope" aria-labelledby={titleId} data-testid={`profile-${name}`}>
      <h2 id={titleId}>Profile {name}</h2>
      <p className="notice">{limitsText(props.profile.budget)}</p>
      {failure && (failure.notFound
        ? <p className="notice" role="status">No runs under this profile yet.</p>
        : <p role="alert" className="error">{failure.message}</p>)}
      {!budget && !failure && <p className="loading" role="status">Loading…</p>}
      {budget && (
        <>
          <p data-testid={`profile-${name}-runs`}>{plural(budget.runs ?? 0, 'run')}, {budget.liveRuns ?? 0} live. {budget.liveRuns ? 'Bars: what the live runs have used of their limits.' : 'No live run: limits apply per run, so the bars show counts only.'}</p>
          <div className="budget-lines" aria-live="polite">
            {profileBars(budget).map((bar) => (
              <BudgetLineView key={bar.scope} bar={bar} extra={allTimeText(bar)} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
