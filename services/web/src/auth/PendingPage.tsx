import { Link, useLocation } from 'react-router';

/** After registering (or signing in) while an administrator has not yet approved the account. */
export function PendingPage() {
  const email = (useLocation().state as { email?: string } | null)?.email;
  return (
    <main className="auth-page">
      <section className="card auth-card" aria-labelledby="pending-title">
        <h1 id="pending-title">Waiting for approval</h1>
        <p>
          {email ? (
            <>
              If <strong>{email}</strong> can register, its account is pending:
            </>
          ) : (
            'Your account is pending:'
          )}{' '}
          an administrator has to activate it before you can sign in.
        </p>
        <p>You will be able to sign in as soon as it is approved.</p>
        <Link className="btn" to="/login">
          Back to sign in
        </Link>
      </section>
    </main>
  );
}
