import type { User as UserView } from '@corral/contracts';
import { AppError } from '@corral/service-kit';
import type { AuthContext } from '../context.js';
import { Prisma, type User } from '../generated/prisma/client.js';
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
});

export const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

export async function registerUser(
  ctx: AuthContext,
  input: {
    email: string;
    password: string;
    name?: string | undefined;
    registrationCode?: string | undefined;
  },
  ip: string | undefined,
): Promise<User> {
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
  const user = await createUser(ctx, {
    email: input.email,
    password: input.password,
    name: input.name,
    role: 'user',
    status: config.DEFAULT_USER_STATUS,
  });
  await ctx.audit.record({
    action: 'user.registered',
    actorId: user.id,
    targetType: 'user',
    targetId: user.id,
    ip,
    details: { status: user.status },
  });
  return user;
}

export async function createUser(
  ctx: AuthContext,
  input: {
    email: string;
    password: string;
    name?: string | undefined;
    role: 'admin' | 'user';
    status: 'active' | 'pending' | 'disabled';
  },
): Promise<User> {
  const passwordHash = await hashPassword(input.password, ctx.config.PASSWORD_SCRYPT_LOG_N);
  try {
    return await ctx.prisma.user.create({
      data: {
        email: normalizeEmail(input.email),
        passwordHash,
        name: input.name ?? null,
        role: input.role,
        status: input.status,
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError('conflict', 'An account with this email already exists.');
    }
    throw error;
  }
}
