import type { BudgetLine } from './queries';

/** The run's budget usage per scope, warning from 80 % of a limit. */
export function BudgetPanel(props: { lines: readonly BudgetLine[] }) {
  if (props.lines.length === 0) return <p className="notice">No budget limits apply to this run.</p>;
  return (
    // Class names prefixed run-: the console ships one CSS bundle, and the Budgets page's
    // `.budget-lines` is a grid (it turned this table into one, headings off their columns).
    <table className="run-budget">
      <thead><tr><th scope="col">Scope</th><th scope="col">Used</th><th scope="col">Limit</th><th scope="col">Usage</th><th scope="col">On exceeding</th></tr></thead>
      <tbody>
        {props.lines.map((l) => {
          const pct = l.percent ?? null;
          const level = l.exceeded > 0 ? 'exceeded' : pct !== null && pct >= 80 ? 'warning' : 'ok';
          return (
            <tr key={l.scope} className={`run-budget-${level}`}>
              <td>{l.scope}</td>
              <td>{l.used}</td>
              <td>{l.limit ?? '–'}</td>
              <td>{pct === null ? '–' : <><progress max={100} value={Math.min(100, pct)} aria-label={`${l.scope} ${pct} %`} /> {Math.round(pct)} %{level !== 'ok' && <strong> {level}</strong>}</>}</td>
              <td>{l.action ?? '–'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
