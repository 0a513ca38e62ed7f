import { useQuery } from 'urql';
import { useLocation, useSearch } from 'wouter';
import { filtersToSearch, parseFilters, runsVariables, withFilter, type RunsFilterState } from '../runs/filters';
import { RUNS_QUERY, type RunsData } from '../runs/queries';
import { RunFilters } from '../runs/RunFilters';
import { RunsTable } from '../runs/RunsTable';
import '../runs/runs.css';

const PAGE = 20;

/** /runs: the runs, newest first, filtered by what the URL's query string says. */
export function RunsPage() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const { filter, problems } = parseFilters(search);
  const go = (next: RunsFilterState) => navigate(`/runs${filtersToSearch(next)}`);
  const [result, refresh] = useQuery<RunsData>({ query: RUNS_QUERY, variables: runsVariables(filter, PAGE) });
  const runs = result.data?.runs;
  return (
    <section className="runs-page">
      <h1>Runs</h1>
      <RunFilters filter={filter} onChange={(change) => go(withFilter(filter, change))} />
      {problems.length > 0 && <p className="error" role="alert">Ignored in the address: {problems.join('; ')}</p>}
      <div className="runs-toolbar">
        <span role="status" aria-live="polite">
          {result.fetching ? 'Loading runs…' : runs ? `${runs.totalCount ?? runs.edges.length} run${(runs.totalCount ?? runs.edges.length) === 1 ? '' : 's'}` : ''}
        </span>
        <button type="button" onClick={() => refresh({ requestPolicy: 'network-only' })}>Refresh</button>
        {filter.after && <button type="button" onClick={() => go(withFilter(filter, { after: undefined }))}>Newest</button>}
        {runs?.pageInfo.hasNextPage && runs.pageInfo.endCursor && <button type="button" onClick={() => go(withFilter(filter, { after: runs.pageInfo.endCursor ?? undefined }))}>Older runs</button>}
      </div>
      {result.error && <p className="error" role="alert">{result.error.graphQLErrors[0]?.message ?? result.error.message}</p>}
      {runs && runs.edges.length === 0 && (Object.keys(filter).length > 0
        ? <p className="notice">No runs match these filters.</p>
        // An empty data folder: say how a run starts (the console starts none), not that filters hide them.
        : <p className="notice">No runs yet. A run starts through the API (<code>startRun</code>) or an agent over MCP; the README's walk-through starts one.</p>)}
      {runs && runs.edges.length > 0 && <RunsTable runs={runs.edges.map((e) => e.node)} />}
    </section>
  );
}
