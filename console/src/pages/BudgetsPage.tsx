import { useState } from 'react';
import { useQuery } from 'urql';
import { Link, useLocation, useSearch } from 'wouter';
import { ProfileBudget, RunBudget } from '../signals/BudgetView';
import { describeError } from '../signals/hooks';
import { PROFILES_QUERY, type ProfileBudgetConfig } from '../signals/queries';
import '../signals/signals.css';

/** Budget usage per profile (`/budgets`), or of one run (`/budgets?runId=<id>`). */
export function BudgetsPage() {
  const runId = new URLSearchParams(useSearch()).get('runId')?.trim() || undefined;
  const [, navigate] = useLocation();
  const [draft, setDraft] = useState(runId ?? '');
  const [profiles] = useQuery<{ profiles: { edges: Array<{ node: ProfileBudgetConfig }> } }>({ query: PROFILES_QUERY, pause: runId !== undefined });

  return (
    <section className="budgets">
      <h1>Budgets</h1>
      <form className="run-budget-form" onSubmit={(e) => { e.preventDefault(); if (draft.trim()) navigate(`/budgets?runId=${encodeURIComponent(draft.trim())}`); }}>
        <label htmlFor="budget-run-id">Run id</label>
        <input id="budget-run-id" value={draft} onChange={(e) => setDraft(e.target.value)} size={40} />
        <button type="submit">Show the run's budget</button>
        {runId && <Link href="/budgets">All profiles</Link>}
      </form>
      {runId ? <RunBudget runId={runId} /> : (
        <>
          {profiles.error && <p role="alert" className="error">{describeError(profiles.error).message}</p>}
          {!profiles.data && !profiles.error && <p className="loading" role="status">Loading profiles…</p>}
          {profiles.data?.profiles.edges.length === 0 && <p className="notice">No profiles are configured.</p>}
          {profiles.data?.profiles.edges.map((e) => <ProfileBudget key={e.node.name} profile={e.node} />)}
        </>
      )}
    </section>
  );
}
