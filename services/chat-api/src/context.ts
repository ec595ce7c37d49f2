import type { Authenticator } from '@corral/auth-client';
import type { Logger } from '@corral/service-kit';
import type { ChatConfig } from './config.js';
import type { Database } from './data/db.js';
import type { LimitsStore } from './data/limits.js';
import type { GatewayClient } from './domain/gateway.js';
import type { GroupGrants } from './domain/group-grants.js';
import type { BudgetReservations } from './domain/budget.js';
import type { Generations } from './domain/generations.js';
import type { RequestRateLimiter, StreamSlots } from './domain/limits.js';
import type { MessageLimits } from './domain/message-limits.js';
import type { ReplyEvents } from './domain/reply-events.js';
import type { StopBus } from './domain/stop-bus.js';
import type { TitleWriter } from './domain/titles.js';
import type { UsageLedger } from './domain/usage-ledger.js';
import type { ChatMetrics } from './metrics.js';
import type { ModelAvailability } from './data/model-availability.js';
import type { AuditTrail } from './domain/audit-trail.js';

/** What routes and domain functions share: built once per app by createApp. */
export interface ChatContext {
  config: ChatConfig;
  logger: Logger;
  db: Database;
  gateway: GatewayClient;
  generations: Generations;
  slots: StreamSlots;
  budgets: BudgetReservations;
  rateLimiter: RequestRateLimiter;
  /** Admin-set per-user and per-API-key limits over the deployment defaults. */
  limits: LimitsStore;
  /** The pool's "available to users" switches (Admin → Model pool). */
  availability: ModelAvailability;
  /** Records admins' pool changes in auth's audit log. */
  audit: AuditTrail;
  /** Users' groups and what they carry, from auth (limits go through `limits`). */
  groups: GroupGrants;
  titles: TitleWriter;
  /** Daily usage, written in batches; budget checks read it through here. */
  usage: UsageLedger;
  stopBus: StopBus;
  /** The longest message each model takes (its context, under MAX_MESSAGE_CHARS). */
  messageLimits: MessageLimits;
  /** Web replies' events, kept briefly so a lost stream resumes (Redis Streams, else this process). */
  replyEvents: ReplyEvents;
  metrics: ChatMetrics;
  auth: Authenticator;
}
