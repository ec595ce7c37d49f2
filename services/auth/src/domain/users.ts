import type { User as UserView } from '@corral/contracts';
import { AppError } from '@corral/service-kit';
import type { AuthContext } from '../context.js';
import { findUserByEmail, insertUser, type User } from '../data/users.js';
import { safeEqual } from './crypto.js';
import { hashPassword } from './passwords.js';

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** auth's view of a user: the contract its callers read. */
export type PublicUser = UserView;

export const toPublicUser = (user: User): PublicUser => ({
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
  status: user.status,
  createdAt: user.createdAt.toISOString(),
  updatedAt: user.updatedAt.toISOString(),
  lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
  mustChangePassword: user.mustChangePassword,
});

/** What registration answers, whether or not the address already has an account. */
export const REGISTRATION_ANSWER = {
  status: 'pending',
  message: 'If this address can register, it is pending: sign in once it is active.',
} as const;

/**
 * Self-registration. Throttled per IP and globally; an address that already has an account gets
 * the same answer (and costs the same scrypt) as a new one, so registration does not reveal who
 * has an account. Both are audited.
 */
export async function registerUser(
  ctx: AuthContext,
  input: {
    email: string;
    password: string;
    name?: string | undefined;
    registrationCode?: string | undefined;
  },
  ip: string | undefined,
): Promise<void> {
  const { config } = ctx;
  if (!config.ENABLE_REGISTRATION) {
    throw new AppError('registration_closed', 'Self-registration is turned off; ask an administrator.');
  }
  if (config.REQUIRE_REGISTRATION_CODE) {
    const expected = config.REGISTRATION_CODE ?? '';
    if (!input.registrationCode || !safeEqual(input.registrationCode, expected)) {
      throw new AppError('registration_closed', 'A valid registration code is required.');
    }
  }
  await ctx.registrations.consume(ip ?? 'unknown');
  let user: User;
  try {
    user = await createUser(ctx, {
      email: input.email,
      password: input.password,
      name: input.name,
      role: 'user',
      status: config.DEFAULT_USER_STATUS,
    });
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'conflict')) throw error;
    const existing = await findUserByEmail(ctx.db, normalizeEmail(input.email));
    await ctx.audit.record({
      action: 'user.registered',
      outcome: 'failure',
      targetType: 'user',
      targetId: existing?.id ?? null,
      ip,
      details: { reason: 'email_taken' },
    });
    return;
  }
  await ctx.audit.record({
    action: 'user.registered',
    actorId: user.id,
    targetType: 'user',
    targetId: user.id,
    ip,
    details: { status: user.status },
  });
}

export async function createUser(
  ctx: AuthContext,
  input: {
    email: string;
    password: string;
    name?: string | undefined;
    role: 'admin' | 'user';
    status: 'active' | 'pending' | 'disabled';
    mustChangePassword?: boolean;
  },
): Promise<User> {
  const passwordHash = await hashPassword(input.password, ctx.config.PASSWORD_SCRYPT_LOG_N);
  const user = await insertUser(ctx.db, {
    email: normalizeEmail(input.email),
    passwordHash,
    name: input.name ?? null,
    role: input.role,
    status: input.status,
    mustChangePassword: input.mustChangePassword ?? false,
  });
  if (!user) throw new AppError('conflict', 'An account with this email already exists.');
  return user;
}
