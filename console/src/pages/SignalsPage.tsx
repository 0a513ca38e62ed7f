import { useQuery } from 'urql';
import { useLocation, useSearch } from 'wouter';
import { describeError, SAMPLE_EVERY_MS, useSignalSamples } from '../signals/hooks';
import { SCOPES_QUERY, type ScopesData, type SignalWindow } from '../signals/queries';
import { parseSignalsSearch, scopeOptions, signalsSearch, WINDOWS } from '../signals/scopes';
import { windowKey } from '../signals/series';
import { ErrorsByMode, SampleNote, SignalCharts, SignalsTable } from '../signals/SignalsView';
import '../signals/signals.css';

/** Golden signals of a scope (`/signals?scope=tool:file.read&window=LAST_1H`): a table per window and live charts. */
export function SignalsPage() {
  const { scope, window } = parseSignalsSearch(useSearch());
  const [, navigate] = useLocation();
  const [scopes] = useQuery<ScopesData>({ query: SCOPES_QUERY });
  const { series, latest, error } = useSignalSamples(scope);
  const options = scopeOptions(scopes.data);
  if (!options.some((o) => o.value === scope)) options.push({ value: scope, label: scope });
  const go = (next: { scope?: string; window?: SignalWindow }) => navigate(`/signals${signalsSearch(next.scope ?? scope, next.window ?? window)}`, { replace: true });
  const failure = error ? describeError(error) : undefined;

  return (
    <section className="signals">
      <h1>Golden signals</h1>
      <div className="signals-controls">
        <label>Scope{' '}
          <select value={scope} onChange={(e) => go({ scope: e.target.value })}>
            {options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
          </select>
        </label>
        <label>Chart window{' '}
          <select value={window} onChange={(e) => go({ window: e.target.value as SignalWindow })}>
            {WINDOWS.map((w) => <option key={w.value} value={w.value}>{w.label}</option>)}
          </select>
        </label>
      </div>
      {scopes.error && <p role="alert" className="error">Scopes: {describeError(scopes.error).message}</p>}
      {failure && (failure.notFound
        ? <p className="notice" role="status">Nothing recorded for {scope} yet: it appears once a call of this scope has run.</p>
        : <p role="alert" className="error">{failure.message}</p>)}
      {!latest && !failure && <p className="loading" role="status">Loading signals…</p>}
      {latest && (
        <>
          <SignalsTable latest={latest} />
          <SampleNote series={series} everyMs={SAMPLE_EVERY_MS} />
          <SignalCharts series={series} window={window} />
          <h2>Errors by failure mode ({WINDOWS.find((w) => w.value === window)?.label.toLowerCase()})</h2>
          <ErrorsByMode signals={latest[windowKey(window)]} />
        </>
      )}
    </section>
  );
}
