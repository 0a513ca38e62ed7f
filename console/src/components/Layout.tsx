import type { ReactNode } from 'react';
import { Link, useRoute } from 'wouter';
import { useSession } from '../auth/SessionContext';

function NavLink(props: { href: string; children: ReactNode }) {
  const [active] = useRoute(`${props.href}/*?`);
  return <Link href={props.href} className={active ? 'active' : undefined} aria-current={active ? 'page' : undefined}>{props.children}</Link>;
}

const CONNECTION_TEXT = { connecting: 'connecting…', connected: 'live', reconnecting: 'reconnecting…' } as const;

/** Header (who you are, your role, the live connection, sign-out), navigation, and the page. */
export function Layout(props: { children: ReactNode }) {
  const { me, connection, signOut } = useSession();
  return (
    <>
      <header className="top">
        <span className="brand">Gatehouse</span>
        <nav aria-label="Main">
          <NavLink href="/approvals">Approvals</NavLink>
          <NavLink href="/runs">Runs</NavLink>
          <NavLink href="/budgets">Budgets</NavLink>
          <NavLink href="/signals">Signals</NavLink>
        </nav>
        <span className={`connection ${connection}`} role="status" aria-live="polite">{CONNECTION_TEXT[connection]}</span>
        <span className="who" data-testid="who">
          <strong>{me.id}</strong> <span className="role">{me.role}</span>
        </span>
        <button type="button" onClick={signOut}>Sign out</button>
      </header>
      <main className="page">{props.children}</main>
    </>
  );
}
