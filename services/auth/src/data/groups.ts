import { Prisma, type Group, type User } from '../generated/prisma/client.js';
import type { Database } from './db.js';

export type GroupWithCount = Group & { _count: { members: number } };

const withCount = { _count: { select: { members: true } } } as const;

const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

export function listGroups(db: Database): Promise<GroupWithCount[]> {
  return db.prisma.group.findMany({ include: withCount, orderBy: { name: 'asc' } });
}

export function findGroup(db: Database, id: string): Promise<GroupWithCount | null> {
  return db.prisma.group.findUnique({ where: { id }, include: withCount });
}

/** The new group, or null when the name is taken. */
export async function insertGroup(db: Database, name: string): Promise<GroupWithCount | null> {
  try {
    return await db.prisma.group.create({ data: { name, source: 'admin' }, include: withCount });
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

/** The renamed group, or null when the name is taken. */
export async function renameGroup(db: Database, id: string, name: string): Promise<GroupWithCount | null> {
  try {
    return await db.prisma.group.update({ where: { id }, data: { name }, include: withCount });
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

/** Replaces the fields given of what the group carries (models and limits). */
export function updateGroupLimits(
  db: Database,
  id: string,
  data: {
    allowedModels?: string[];
    requestsPerMinute?: number | null;
    dailyTokenBudget?: number | null;
    maxConcurrentStreams?: number | null;
  },
): Promise<GroupWithCount> {
  return db.prisma.group.update({ where: { id }, data, include: withCount });
}

/** The user's groups with what they carry, and every model any group names (one round trip each). */
export async function grantsOf(
  db: Database,
  userId: string,
): Promise<{ groups: Group[]; restrictedModels: string[] }> {
  const [groups, named] = await Promise.all([
    db.prisma.group.findMany({ where: { members: { some: { userId } } }, orderBy: { name: 'asc' } }),
    db.prisma.group.findMany({
      where: { NOT: { allowedModels: { isEmpty: true } } },
      select: { allowedModels: true },
    }),
  ]);
  const restricted = new Set(named.flatMap((group) => group.allowedModels));
  return { groups, restrictedModels: [...restricted].sort() };
}

/** Every group with its members' ids, by name. */
export async function allMemberships(
  db: Database,
): Promise<Array<{ id: string; name: string; userIds: string[] }>> {
  const groups = await db.prisma.group.findMany({
    select: { id: true, name: true, members: { select: { userId: true } } },
    orderBy: { name: 'asc' },
  });
  return groups.map((group) => ({
    id: group.id,
    name: group.name,
    userIds: group.members.map((member) => member.userId),
  }));
}

export async function deleteGroup(db: Database, id: string): Promise<void> {
  await db.prisma.group.delete({ where: { id } });
}

export async function membersOf(db: Database, groupId: string): Promise<User[]> {
  const rows = await db.prisma.groupMember.findMany({
    where: { groupId },
    include: { user: true },
    orderBy: { createdAt: 'asc' },
  });
  return rows.map((row) => row.user);
}

/** Whether the user was added (false: already a member). */
export async function addMember(db: Database, groupId: string, userId: string): Promise<boolean> {
  const { count } = await db.prisma.groupMember.createMany({
    data: [{ groupId, userId }],
    skipDuplicates: true,
  });
  return count > 0;
}

/** Whether the user was a member. */
export async function removeMember(db: Database, groupId: string, userId: string): Promise<boolean> {
  const { count } = await db.prisma.groupMember.deleteMany({ where: { groupId, userId } });
  return count > 0;
}

export async function groupsOf(db: Database, userId: string): Promise<GroupWithCount[]> {
  return db.prisma.group.findMany({
    where: { members: { some: { userId } } },
    include: withCount,
    orderBy: { name: 'asc' },
  });
}

/**
 * Makes the user's synced (`oidc`) memberships exactly `names`: missing synced groups are created,
 * memberships of synced groups not named are removed. A name an admin group already has is left
 * alone (admins manage that group's members). One transaction, so two sign-ins do not interleave.
 */
export async function syncOidcMemberships(
  db: Database,
  userId: string,
  names: string[],
): Promise<{ joined: string[]; left: string[] }> {
  return db.prisma.$transaction(async (tx) => {
    if (names.length > 0) {
      await tx.group.createMany({
        data: names.map((name) => ({ name, source: 'oidc' })),
        skipDuplicates: true,
      });
    }
    const wanted = await tx.group.findMany({ where: { name: { in: names }, source: 'oidc' } });
    const current = await tx.groupMember.findMany({
      where: { userId, group: { source: 'oidc' } },
      include: { group: true },
    });
    const wantedIds = new Set(wanted.map((group) => group.id));
    const currentIds = new Set(current.map((row) => row.groupId));
    const leaving = current.filter((row) => !wantedIds.has(row.groupId));
    const joining = wanted.filter((group) => !currentIds.has(group.id));
    if (leaving.length > 0) {
      await tx.groupMember.deleteMany({
        where: { userId, groupId: { in: leaving.map((row) => row.groupId) } },
      });
    }
    if (joining.length > 0) {
      await tx.groupMember.createMany({
        data: joining.map((group) => ({ groupId: group.id, userId })),
        skipDuplicates: true,
      });
    }
    return { joined: joining.map((group) => group.name), left: leaving.map((row) => row.group.name) };
  });
}
