import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { ApiError, api } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { InferenceNotice } from '../ui/InferenceNotice.js';
import { useAuth } from './AuthContext.js';
import { SIGNED_IN_VIA_IDP, idpLoginHref, useSignInOptions } from './useSignInOptions.js';
import { returnPath } from './return-path.js';

export function SignInPage() {
  const navigate = useNavigate();
  const location = useLocation();
  const { expired, restoreError } = useAuth();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(restoreError);
  const { options } = useSignInOptions();
  // Until the options arrive the form shows, as it always did; it hides once auth says it is off.
  const passwordLogin = options?.passwordLogin ?? true;
  const idp = options?.oidc ?? null;
  const passwordRef = useRef<HTMLInputElement>(null);
  const [refused, setRefused] = useState(0);
  // A wrong password: back to the password field, its text selected to type over.
  useEffect(() => {
    if (refused === 0) return;
    passwordRef.current?.focus();
    passwordRef.current?.select();
  }, [refused]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.auth.login(email, password);
      localStorage.removeItem(SIGNED_IN_VIA_IDP);
      navigate(returnPath(location.state), { replace: true });
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'account_pending') {
        navigate('/pending', { state: { email } });
        return;
      }
      setError(caught);
      if (caught instanceof ApiError && caught.code === 'invalid_credentials') setRefused((n) => n + 1);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth-page">
      <section className="card auth-card" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Corral</h1>
        {expired && <p className="notice">Your session ended. Please sign in again.</p>}
        {error !== undefined && <ErrorNotice error={error} />}
        {idp && (
          <a
            className="btn btn--primary"
            href={idpLoginHref(idp)}
            onClick={() => localStorage.setItem(SIGNED_IN_VIA_IDP, '1')}
          >
            {idp.buttonLabel}
          </a>
        )}
        {passwordLogin && (
          <form onSubmit={(e) => void submit(e)}>
            <label>
              Email
              <input
                type="email"
                name="email"
                autoComplete="username"
                // The page's one task: typing can start at once.
                autoFocus
                required
                value={email}
                onChange={(e) => setEmail(e.target.value)}
              />
            </label>
            <label>
              Password
              <input
                ref={passwordRef}
                type="password"
                name="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
            <button type="submit" className={idp ? 'btn' : 'btn btn--primary'} disabled={busy}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
            {options?.registration !== 'closed' && (
              <p>
                No account? <Link to="/register">Register</Link>
              </p>
            )}
          </form>
        )}
      </section>
      <InferenceNotice compact />
    </main>
  );
}
