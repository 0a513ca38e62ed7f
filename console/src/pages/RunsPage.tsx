/** Placeholder: the Runs screen (issue #15). */
export function RunsPage(props: { id?: string }) {
  return (
    <section>
      <h1>Runs</h1>
      {props.id && <p>{props.id}</p>}
    </section>
  );
}
