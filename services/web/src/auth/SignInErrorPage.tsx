import { type OidcErrorReason, oidcErrorReason } from '@corral/contracts';
import { Link, useSearchParams } from 'react-router';

const MESSAGES: Record<OidcErrorReason, { title: string; text: string }> = {
  idp_unreachable: {
    title: 'The sign-in service cannot be reached',
    text: 'Corral could not reach your company’s identity provider. Try again in a moment; if it keeps happening, tell your administrator.',
  },
  idp_error: {
    title: 'The identity provider did not sign you in',
    text: 'Your identity provider refused or cancelled the sign-in (or the sign-in link was already used). Start again from the sign-in page.',
  },
  state_mismatch: {
    title: 'This sign-in link does not match',
    text: 'The answer from the identity provider does not belong to the sign-in this browser started (an old tab, or a link from somewhere else). Start again from the sign-in page.',
  },
  flow_expired: {
    title: 'The sign-in took too long',
    text: 'The sign-in at your identity provider expired, or it was started in another browser. Start again from the sign-in page.',
  },
  group_not_allowed: {
    title: 'You are not in a group that may use Corral',
    text: 'Your identity provider signed you in, but Corral only admits members of certain groups. Ask your administrator to add you.',
  },
  email_not_verified: {
    title: 'Your email address is not verified',
    text: 'A Corral account with this email exists, and your identity provider has not verified that the address is yours, so they were not linked. Verify your email at the identity provider, or ask your administrator.',
  },
  email_missing: {
    title: 'No email address',
    text: 'Your identity provider did not share an email address with Corral. Ask your administrator to release the email claim.',
  },
  account_disabled: {
    title: 'This account has been disabled',
    text: 'An administrator disabled your Corral account. Ask them if you think this is a mistake.',
  },
  account_pending: {
    title: 'Waiting for approval',
    text: 'Your account exists and is pending: an administrator has to activate it before you can sign in.',
  },
  registration_closed: {
    title: 'Corral does not create accounts on its own here',
    text: 'You have no Corral account yet, and new accounts are made by an administrator (or need a registration code). Ask your administrator.',
  },
  sign_in_failed: {
    title: 'The sign-in could not be completed',
    text: 'The answer from your identity provider did not check out. Start again; if it keeps happening, tell your administrator.',
  },
  groups_claim_too_large: {
    title: 'Too many groups',
    text: 'Your identity provider sent more groups (or longer group names) than Corral takes: at most 200 groups of up to 200 characters. Ask your administrator to limit the groups released to Corral.',
  },
  not_configured: {
    title: 'Single sign-on is not set up',
    text: 'This Corral has no identity provider configured. Sign in with your email and password.',
  },
};

/** Where a failed sign-in through the identity provider lands: says why, in words the user can act on. */
export function SignInErrorPage() {
  const [params] = useSearchParams();
  const parsed = oidcErrorReason.safeParse(params.get('reason'));
  const message = parsed.success
    ? MESSAGES[parsed.data]
    : {
        title: 'Sign-in failed',
        text: 'The sign-in could not be completed. Start again from the sign-in page.',
      };
  return (
    <main className="auth-page">
      <section className="card auth-card" aria-labelledby="sign-in-error-title" role="alert">
        <h1 id="sign-in-error-title">{message.title}</h1>
        <p>{message.text}</p>
        <Link className="btn btn--primary" to="/login">
          Back to sign in
        </Link>
      </section>
    </main>
  );
}
