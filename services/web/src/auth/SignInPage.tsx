import { type FormEvent, useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { ApiError, api } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { InferenceNotice } from '../ui/InferenceNotice.js';
import { useAuth } from './AuthContext.js';
import { returnPath } from './return-path.js';

export function SignInPage() {
  const navigate = useNavigate();
  const location = useLocation();
  const { expired, restoreError } = useAuth();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(restoreError);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.auth.login(email, password);
      navigate(returnPath(location.state), { replace: true });
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'account_pending') {
        navigate('/pending', { state: { email } });
        return;
      }
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth-page">
      <form className="card auth-card" onSubmit={(e) => void submit(e)} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Corral</h1>
        {expired && <p className="notice">Your session ended. Please sign in again.</p>}
        {error !== undefined && <ErrorNotice error={error} />}
        <label>
          Email
          <input
            type="email"
            name="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button type="submit" className="btn btn--primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p>
          No account? <Link to="/register">Register</Link>
        </p>
      </form>
      <InferenceNotice compact />
    </main>
  );
}
