import type { GroupGrant, GroupLimitsPatch, Group as GroupView, UserGrants } from '@corral/contracts';
import type { Group } from '../generated/prisma/client.js';
import { AppError } from '@corral/service-kit';
import type { AuthContext } from '../context.js';
import {
  addMember,
  deleteGroup,
  findGroup,
  insertGroup,
  grantsOf,
  removeMember,
  renameGroup,
  updateGroupLimits,
  type GroupWithCount,
} from '../data/groups.js';
import type { Actor } from './admin.js';
import { findUserOr404 } from './admin.js';

/** The most groups one sign-in takes from the claim; more (or a longer name) refuses the sign-in (groups_claim_too_large). */
export const MAX_SYNCED_GROUPS = 200;
export const MAX_GROUP_NAME_LENGTH = 200;

const toGroupGrant = (group: Group): GroupGrant => ({
  id: group.id,
  name: group.name,
  allowedModels: group.allowedModels,
  requestsPerMinute: group.requestsPerMinute,
  dailyTokenBudget: group.dailyTokenBudget,
  maxConcurrentStreams: group.maxConcurrentStreams,
});

export const toGroupView = (group: GroupWithCount): GroupView => ({
  ...toGroupGrant(group),
  source: group.source === 'oidc' ? 'oidc' : 'admin',
  memberCount: group._count.members,
  createdAt: group.createdAt.toISOString(),
  updatedAt: group.updatedAt.toISOString(),
});

/** What chat-api combines into the user's effective limits (see docs/operations.md, "Groups"). */
export async function userGrants(ctx: AuthContext, userId: string): Promise<UserGrants> {
  const { groups, restrictedModels } = await grantsOf(ctx.db, userId);
  return { userId, groups: groups.map(toGroupGrant), restrictedModels };
}

export async function findGroupOr404(ctx: AuthContext, id: string): Promise<GroupWithCount> {
  const group = await findGroup(ctx.db, id);
  if (!group) throw new AppError('not_found', 'No such group.');
  return group;
}

/** Synced groups follow the IdP's claim: renaming them or changing members by hand would be undone at the next sign-in. */
function assertAdminManaged(group: GroupWithCount, what: string): void {
  if (group.source === 'oidc') {
    throw new AppError(
      'conflict',
      `"${group.name}" is synced from the identity provider's groups claim: ${what} there, not in Corral.`,
    );
  }
}

export async function createGroup(ctx: AuthContext, name: string, actor: Actor): Promise<GroupWithCount> {
  const group = await insertGroup(ctx.db, name);
  if (!group) throw new AppError('conflict', `A group named "${name}" already exists.`);
  await ctx.audit.record({
    action: 'group.created',
    actorId: actor.id,
    targetType: 'group',
    targetId: group.id,
    ip: actor.ip,
    details: { name },
  });
  return group;
}

export async function renameAdminGroup(
  ctx: AuthContext,
  id: string,
  name: string,
  actor: Actor,
): Promise<GroupWithCount> {
  const group = await findGroupOr404(ctx, id);
  assertAdminManaged(group, 'rename it');
  const renamed = await renameGroup(ctx.db, id, name);
  if (!renamed) throw new AppError('conflict', `A group named "${name}" already exists.`);
  await ctx.audit.record({
    action: 'group.renamed',
    actorId: actor.id,
    targetType: 'group',
    targetId: id,
    ip: actor.ip,
    details: { from: group.name, to: name },
  });
  return renamed;
}

/** Any group may be deleted; a synced one comes back at its next member's sign-in. */
export async function removeGroup(ctx: AuthContext, id: string, actor: Actor): Promise<void> {
  const group = await findGroupOr404(ctx, id);
  await deleteGroup(ctx.db, id);
  await ctx.audit.record({
    action: 'group.deleted',
    actorId: actor.id,
    targetType: 'group',
    targetId: id,
    ip: actor.ip,
    details: { name: group.name, source: group.source },
  });
}

export async function changeMembership(
  ctx: AuthContext,
  groupId: string,
  userId: string,
  change: 'add' | 'remove',
  actor: Actor,
): Promise<GroupWithCount> {
  const group = await findGroupOr404(ctx, groupId);
  assertAdminManaged(group, 'change its members');
  await findUserOr404(ctx, userId);
  const changed =
    change === 'add' ? await addMember(ctx.db, groupId, userId) : await removeMember(ctx.db, groupId, userId);
  if (change === 'remove' && !changed) throw new AppError('not_found', 'That user is not in this group.');
  if (changed) {
    await ctx.audit.record({
      action: change === 'add' ? 'group.member_added' : 'group.member_removed',
      actorId: actor.id,
      targetType: 'group',
      targetId: groupId,
      ip: actor.ip,
      details: { userId, name: group.name },
    });
  }
  return findGroupOr404(ctx, groupId);
}

/**
 * Sets what a group carries (its models and limits). Synced groups too: the IdP decides who is in
 * them, Corral what they grant. Each model name is kept once, as given.
 */
export async function setGroupLimits(
  ctx: AuthContext,
  id: string,
  patch: GroupLimitsPatch,
  actor: Actor,
): Promise<GroupWithCount> {
  const group = await findGroupOr404(ctx, id);
  const data = {
    ...patch,
    ...(patch.allowedModels ? { allowedModels: [...new Set(patch.allowedModels)] } : {}),
  };
  const updated = await updateGroupLimits(ctx.db, id, data);
  await ctx.audit.record({
    action: 'group.limits_changed',
    actorId: actor.id,
    targetType: 'group',
    targetId: id,
    ip: actor.ip,
    details: { name: group.name, ...data },
  });
  return updated;
}
