import { Redirect, Route, Switch } from 'wouter';
import { SessionProvider } from './auth/SessionContext';
import { Layout } from './components/Layout';
import { ApprovalPage } from './pages/ApprovalPage';
import { ApprovalsPage } from './pages/ApprovalsPage';
import { BudgetsPage } from './pages/BudgetsPage';
import { NotFound } from './pages/NotFound';
import { RunPage } from './pages/RunPage';
import { RunsPage } from './pages/RunsPage';
import { SignalsPage } from './pages/SignalsPage';
import { SignIn } from './pages/SignIn';

/**
 * Every screen has its own address, so a notification's link opens the right card; signed out,
 * any address shows the sign-in and then the screen it names (the URL is never changed for it).
 */
export function App() {
  return (
    <SessionProvider signIn={(submit, message) => <SignIn submit={submit} {...(message ? { message } : {})} />}>
      <Layout>
        <Switch>
          <Route path="/"><Redirect to="/approvals" replace /></Route>
          <Route path="/approvals">{() => <ApprovalsPage />}</Route>
          <Route path="/approvals/*">{(p) => <ApprovalPage id={p['*']} />}</Route>
          <Route path="/runs">{() => <RunsPage />}</Route>
          <Route path="/runs/:id">{(p) => <RunPage id={p.id} />}</Route>
          <Route path="/budgets">{() => <BudgetsPage />}</Route>
          <Route path="/signals">{() => <SignalsPage />}</Route>
          <Route><NotFound /></Route>
        </Switch>
      </Layout>
    </SessionProvider>
  );
}
