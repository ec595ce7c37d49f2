import { type FormEvent, useState } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { ApiError } from '../api/errors.js';
import { api } from '../api/index.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { useSignInOptions } from './useSignInOptions.js';

export function RegisterPage() {
  const navigate = useNavigate();
  const [form, setForm] = useState({ name: '', email: '', password: '', registrationCode: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const { options } = useSignInOptions();
  const field = (key: keyof typeof form) => ({
    value: form[key],
    onChange: (e: { target: { value: string } }) => setForm((f) => ({ ...f, [key]: e.target.value })),
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.auth.register({
        email: form.email,
        password: form.password,
        ...(form.name ? { name: form.name } : {}),
        ...(form.registrationCode ? { registrationCode: form.registrationCode } : {}),
      });
      // Registration does not say whether the account is active (or new): signing in tells.
      try {
        await api.auth.login(form.email, form.password);
        navigate('/', { replace: true });
      } catch (loginError) {
        if (!(loginError instanceof ApiError) || loginError.status >= 500) throw loginError;
        navigate('/pending', { state: { email: form.email } });
      }
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  // Password registration is off: people sign in through the identity provider instead.
  if (options && !options.passwordLogin) return <Navigate to="/login" replace />;

  return (
    <main className="auth-page">
      <form className="card auth-card" onSubmit={(e) => void submit(e)} aria-labelledby="register-title">
        <h1 id="register-title">Create an account</h1>
        {error !== undefined && <ErrorNotice error={error} />}
        <label>
          Name
          <input name="name" autoComplete="name" {...field('name')} />
        </label>
        <label>
          Email
          <input type="email" name="email" autoComplete="email" required {...field('email')} />
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autoComplete="new-password"
            required
            minLength={12}
            aria-describedby="password-hint"
            {...field('password')}
          />
          <small id="password-hint">At least 12 characters, and not a common password.</small>
        </label>
        <label>
          Registration code (if you were given one)
          <input name="registrationCode" autoComplete="off" {...field('registrationCode')} />
        </label>
        <button type="submit" className="btn btn--primary" disabled={busy}>
          {busy ? 'Creating…' : 'Register'}
        </button>
        <p>
          Already registered? <Link to="/login">Sign in</Link>
        </p>
      </form>
    </main>
  );
}
