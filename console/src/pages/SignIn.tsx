import { useId, useState, type FormEvent } from 'react';

/**
 * Sign-in with a bearer token. The field is a password input (not echoed, not autofilled into
 * history); the URL the user came for stays in the address bar, so a deep link opens after sign-in.
 */
export function SignIn(props: { submit: (token: string) => Promise<string | undefined>; message?: string }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const fieldId = useId();
  const errorId = useId();

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!token.trim()) return setError('Enter your bearer token.');
    setBusy(true);
    const refusal = await props.submit(token);
    setBusy(false);
    setError(refusal);
  }

  const shown = error ?? props.message;
  return (
    <main className="sign-in">
      <h1>Gatehouse</h1>
      <p>Sign in with the bearer token your administrator gave you.</p>
      <form onSubmit={onSubmit} aria-describedby={shown ? errorId : undefined}>
        <label htmlFor={fieldId}>Token</label>
        <input id={fieldId} name="token" type="password" autoComplete="off" spellCheck={false} value={token} onChange={(e) => setToken(e.target.value)} autoFocus />
        <button type="submit" disabled={busy}>{busy ? 'Checking…' : 'Sign in'}</button>
        {shown && <p id={errorId} className={error ? 'error' : 'notice'} role="alert">{shown}</p>}
      </form>
    </main>
  );
}
