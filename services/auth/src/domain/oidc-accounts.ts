import type { OidcErrorReason } from '@corral/contracts';
import type { AuthContext } from '../context.js';
import { syncOidcMemberships } from '../data/groups.js';
import { findIdentity, insertIdentity, recordIdentitySignIn } from '../data/identities.js';
import { findUserByEmail, insertUser, updateUser, type User } from '../data/users.js';
import { safeEqual } from './crypto.js';
import { MAX_GROUP_NAME_LENGTH, MAX_SYNCED_GROUPS } from './groups.js';
import type { OidcClaims } from './oidc-client.js';
import { revokeUserTokens } from './revocation.js';
import { normalizeEmail } from './users.js';

/** Stored as the password hash of accounts the IdP made: it never verifies (not an scrypt hash). */
export const NO_PASSWORD = 'none:signs-in-through-the-identity-provider';

/** A sign-in through the IdP that Corral refuses, with the reason the error page shows. */
export class OidcRefusal extends Error {
  constructor(
    readonly reason: OidcErrorReason,
    message: string,
  ) {
    super(message);
  }
}

const intersects = (groups: string[], wanted: string[]) => wanted.some((group) => groups.includes(group));

/**
 * The account behind an IdP sign-in: found by issuer + sub; else an account with the same email,
 * linked only when the IdP says the email is verified; else a new one, as registration allows.
 * Then the rules every sign-in passes: allowed groups, account status, and the admin role
 * re-read from the groups. Every outcome is audited.
 */
export async function accountForIdentity(
  ctx: AuthContext,
  claims: OidcClaims,
  ip: string,
  registrationCode: string | undefined,
): Promise<User> {
  const { config } = ctx;
  const audited = { ip, details: { via: 'oidc', issuer: claims.issuer, subject: claims.subject } };
  const refuse = async (reason: OidcErrorReason, message: string, userId: string | null = null) => {
    ctx.metrics.signIns.inc({ outcome: `oidc_${reason}` });
    await ctx.audit.record({
      action: 'user.sign_in',
      outcome: 'failure',
      actorId: userId,
      targetType: 'user',
      targetId: userId,
      ...audited,
      details: { ...audited.details, email: claims.email, reason },
    });
    return new OidcRefusal(reason, message);
  };

  if (config.OIDC_ALLOWED_GROUPS.length > 0 && !intersects(claims.groups, config.OIDC_ALLOWED_GROUPS)) {
    throw await refuse('group_not_allowed', 'You are not in a group that may use Corral.');
  }

  if (
    claims.groups.length > MAX_SYNCED_GROUPS ||
    claims.groups.some((name) => name.trim().length === 0 || name.length > MAX_GROUP_NAME_LENGTH)
  ) {
    throw await refuse(
      'groups_claim_too_large',
      `The groups claim holds more than ${MAX_SYNCED_GROUPS} groups or a name longer than ${MAX_GROUP_NAME_LENGTH} characters.`,
    );
  }

  const seen = { email: claims.email, groups: claims.groups };
  /** The identity's id once linked to `userId` (or, when a concurrent first sign-in linked it, that link's). */
  const link = async (userId: string): Promise<string> => {
    const inserted = await insertIdentity(ctx.db, {
      userId,
      issuer: claims.issuer,
      subject: claims.subject,
      ...seen,
    });
    if (inserted) return inserted.id;
    const raced = await findIdentity(ctx.db, claims.issuer, claims.subject);
    if (!raced || raced.userId !== userId) {
      throw await refuse('sign_in_failed', 'The account could not be linked; try again.');
    }
    return raced.id;
  };
  let user: User;
  let identityId: string;
  const identity = await findIdentity(ctx.db, claims.issuer, claims.subject);
  if (identity) {
    user = identity.user;
    identityId = identity.id;
  } else {
    if (!claims.email) throw await refuse('email_missing', 'The identity provider gave no email address.');
    const email = normalizeEmail(claims.email);
    const existing = await findUserByEmail(ctx.db, email);
    if (existing) {
      // Linking on an unverified email would hand the account to whoever typed that address at the IdP.
      if (!claims.emailVerified) {
        throw await refuse(
          'email_not_verified',
          'An account with this email exists, and the identity provider has not verified the email.',
          existing.id,
        );
      }
      identityId = await link(existing.id);
      user = existing;
      await ctx.audit.record({
        action: 'user.oidc_linked',
        actorId: user.id,
        targetType: 'user',
        targetId: user.id,
        ...audited,
        details: { ...audited.details, email },
      });
    } else {
      if (!config.ENABLE_REGISTRATION) {
        throw await refuse('registration_closed', 'New accounts are made by an administrator.');
      }
      if (
        config.REQUIRE_REGISTRATION_CODE &&
        (!registrationCode || !safeEqual(registrationCode, config.REGISTRATION_CODE ?? ''))
      ) {
        throw await refuse(
          'registration_closed',
          'A valid registration code is required for a first sign-in.',
        );
      }
      const created = await insertUser(ctx.db, {
        email,
        passwordHash: NO_PASSWORD,
        name: claims.name,
        role: 'user',
        status: config.DEFAULT_USER_STATUS,
        mustChangePassword: false,
      });
      if (!created) {
        // Two first sign-ins at once: the other one made the account; sign in as a second sign-in would.
        const raced = await findIdentity(ctx.db, claims.issuer, claims.subject);
        if (!raced) throw await refuse('sign_in_failed', 'The account could not be created; try again.');
        user = raced.user;
        identityId = raced.id;
      } else {
        identityId = await link(created.id);
        user = created;
        await ctx.audit.record({
          action: 'user.registered',
          actorId: user.id,
          targetType: 'user',
          targetId: user.id,
          ...audited,
          details: { ...audited.details, status: user.status },
        });
      }
    }
  }

  if (user.status !== 'active') {
    const reason = user.status === 'pending' ? 'account_pending' : 'account_disabled';
    throw await refuse(
      reason,
      reason === 'account_pending'
        ? 'This account is waiting for an administrator to activate it.'
        : 'This account has been disabled.',
      user.id,
    );
  }

  const changes: Parameters<typeof updateUser>[2] = { lastLoginAt: new Date() };
  let roleChanged = false;
  if (config.OIDC_ADMIN_GROUPS.length > 0) {
    const role = intersects(claims.groups, config.OIDC_ADMIN_GROUPS) ? 'admin' : 'user';
    if (role !== user.role) {
      changes.role = role;
      roleChanged = true;
    }
  }
  const synced = await syncOidcMemberships(ctx.db, user.id, claims.groups);
  if (synced.joined.length > 0 || synced.left.length > 0) {
    await ctx.audit.record({
      action: 'user.groups_synced',
      actorId: user.id,
      targetType: 'user',
      targetId: user.id,
      ...audited,
      details: { ...audited.details, joined: synced.joined, left: synced.left },
    });
  }
  const before = user.role;
  user = await updateUser(ctx.db, user.id, changes);
  await recordIdentitySignIn(ctx.db, identityId, seen);
  if (roleChanged) {
    // Tokens carry the role: those issued before must not keep the old one.
    await revokeUserTokens(ctx, user.id);
    await ctx.audit.record({
      action: 'user.role_changed',
      actorId: user.id,
      targetType: 'user',
      targetId: user.id,
      ...audited,
      details: { ...audited.details, from: before, to: user.role, reason: 'oidc_admin_groups' },
    });
  }
  ctx.metrics.signIns.inc({ outcome: 'success' });
  await ctx.audit.record({
    action: 'user.sign_in',
    actorId: user.id,
    targetType: 'user',
    targetId: user.id,
    ...audited,
    details: { ...audited.details, groups: claims.groups },
  });
  return user;
}
