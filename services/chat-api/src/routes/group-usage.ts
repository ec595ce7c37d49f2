import { groupUsageQuery } from '@corral/contracts';
import { parseInput } from '@corral/service-kit';
import { Router } from 'express';
import type { ChatContext } from '../context.js';
import { usageByUser } from '../data/usage.js';

/** GET /api/admin/usage/groups (mounted behind the admin guard): tokens by group. */
export function groupUsageRoutes(ctx: ChatContext): Router {
  const router = Router();

  // Current members: someone who left a group no longer counts in it, for any day.
  router.get('/usage/groups', async (req, res) => {
    const { days } = parseInput(groupUsageQuery, req.query, 'query');
    const groups = await ctx.groups.memberships();
    await ctx.usage.flush();
    const byUser = await usageByUser(ctx.db, [...new Set(groups.flatMap((g) => g.userIds))], days);
    res.json({
      items: groups.map((group) => {
        const total = { requests: 0, promptTokens: 0, completionTokens: 0 };
        for (const userId of group.userIds) {
          const used = byUser.get(userId);
          if (!used) continue;
          total.requests += used.requests;
          total.promptTokens += used.promptTokens;
          total.completionTokens += used.completionTokens;
        }
        return { groupId: group.id, name: group.name, members: group.userIds.length, ...total };
      }),
    });
  });

  return router;
}
