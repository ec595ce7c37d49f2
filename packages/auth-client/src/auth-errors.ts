import { AppError } from '@corral/service-kit';

// RFC 6750 §3: every 401 carries a Bearer challenge; `error` says why when a token was sent.
const challenge = (error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope'): string =>
  error === undefined ? 'Bearer' : `Bearer error="${error}"`;

export const missingCredentials = (): AppError =>
  new AppError('unauthorized', 'Send an access token or API key as "Authorization: Bearer <token>".', {
    headers: { 'WWW-Authenticate': challenge() },
  });

export const malformedAuthorization = (): AppError =>
  new AppError('unauthorized', 'The Authorization header must be "Bearer <token>".', {
    headers: { 'WWW-Authenticate': challenge('invalid_request') },
  });

export const invalidToken = (detail = 'The access token is invalid.'): AppError =>
  new AppError('invalid_token', detail, {
    headers: { 'WWW-Authenticate': challenge('invalid_token') },
  });

export const expiredToken = (): AppError => invalidToken('The access token has expired.');

export const invalidApiKey = (): AppError => invalidToken('The API key is invalid, expired or revoked.');

export const insufficientRole = (): AppError =>
  new AppError('forbidden', 'Your role does not allow this action.', {
    headers: { 'WWW-Authenticate': challenge('insufficient_scope') },
  });

export const revokedToken = (): AppError => invalidToken('This session has ended; sign in again.');

export const insufficientScope = (scope: string): AppError =>
  new AppError('forbidden', `This needs a signed-in session, or an API key with the "${scope}" scope.`, {
    headers: { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scope}"` },
  });

export const sessionRequired = (): AppError =>
  new AppError('forbidden', 'This needs a signed-in session; API keys cannot do it.', {
    headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' },
  });

export const authUnavailable = (detail: string): AppError =>
  new AppError('service_unavailable', detail, { headers: { 'Retry-After': '5' } });
