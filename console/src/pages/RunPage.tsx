/** Placeholder: the Run screen (issue #15). */
export function RunPage(props: { id?: string }) {
  return (
    <section>
      <h1>Run</h1>
      {props.id && <p>{props.id}</p>}
    </section>
  );
}
