/** Placeholder: the Golden signals screen (issue #15). */
export function SignalsPage(props: { id?: string }) {
  return (
    <section>
      <h1>Golden signals</h1>
      {props.id && <p>{props.id}</p>}
    </section>
  );
}
