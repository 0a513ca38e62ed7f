/** Placeholder: the Budgets screen (issue #15). */
export function BudgetsPage(props: { id?: string }) {
  return (
    <section>
      <h1>Budgets</h1>
      {props.id && <p>{props.id}</p>}
    </section>
  );
}
