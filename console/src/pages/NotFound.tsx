import { Link } from 'wouter';

/** An address the console does not know. */
export function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>There is no such page. <Link href="/approvals">Go to the approvals inbox</Link>.</p>
    </section>
  );
}
