/** Placeholder: the Approvals inbox screen (issue #15). */
export function ApprovalsPage(props: { id?: string }) {
  return (
    <section>
      <h1>Approvals inbox</h1>
      {props.id && <p>{props.id}</p>}
    </section>
  );
}
