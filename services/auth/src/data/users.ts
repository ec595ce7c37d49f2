import { Prisma, type User } from '../generated/prisma/client.js';
import type { Database } from './db.js';

export type { User };

const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

export function findUserById(db: Database, id: string): Promise<User | null> {
  return db.prisma.user.findUnique({ where: { id } });
}

/** `email` as stored: normalized by the caller. */
export function findUserByEmail(db: Database, email: string): Promise<User | null> {
  return db.prisma.user.findUnique({ where: { email } });
}

export interface NewUserRow {
  email: string;
  passwordHash: string;
  name: string | null;
  role: User['role'];
  status: User['status'];
  mustChangePassword: boolean;
}

/** The new user, or null when the email is taken. */
export async function insertUser(db: Database, data: NewUserRow): Promise<User | null> {
  try {
    return await db.prisma.user.create({ data });
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

export type UserChanges = Partial<
  Pick<User, 'status' | 'role' | 'passwordHash' | 'lastLoginAt' | 'mustChangePassword'>
>;

export function updateUser(db: Database, id: string, changes: UserChanges): Promise<User> {
  return db.prisma.user.update({ where: { id }, data: changes });
}

export interface UserListQuery {
  q?: string | undefined;
  status?: User['status'] | undefined;
  role?: User['role'] | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Oldest account first; `cursor` is the id of the last user of the previous page (keyset paging). */
export async function listUsers(
  db: Database,
  query: UserListQuery,
): Promise<{ items: User[]; nextCursor: string | null }> {
  const where: Prisma.UserWhereInput = {
    ...(query.q
      ? {
          OR: [
            { email: { contains: query.q, mode: 'insensitive' } },
            { name: { contains: query.q, mode: 'insensitive' } },
          ],
        }
      : {}),
    ...(query.status ? { status: query.status } : {}),
    ...(query.role ? { role: query.role } : {}),
  };
  const rows = await db.prisma.user.findMany({
    where,
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: query.limit + 1,
    ...(query.cursor ? { cursor: { id: query.cursor }, skip: 1 } : {}),
  });
  const items = rows.slice(0, query.limit);
  return { items, nextCursor: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
}
