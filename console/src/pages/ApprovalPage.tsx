/** Placeholder: the Approval screen (issue #15). */
export function ApprovalPage(props: { id?: string }) {
  return (
    <section>
      <h1>Approval</h1>
      {props.id && <p>{props.id}</p>}
    </section>
  );
}
