import { type GroupMemberships, type UserGrants, groupMemberships, userGrants } from '@corral/contracts';
import { AppError, type Logger, TtlCache } from '@corral/service-kit';
import axios, { type AxiosInstance } from 'axios';

/** Users whose grants are kept in memory (and last-known answers), oldest evicted first. */
const MAX_CACHED = 10_000;
/** How long a last-known answer may stand in while auth cannot be reached. */
const STALE_MS = 10 * 60_000;

export interface GroupGrantsOptions {
  /** `{AUTH_URL}` */
  authUrl: string;
  serviceToken: string;
  /** USER_LIMITS_CACHE_MS: a group change reaches this replica within it. */
  cacheMs: number;
  timeoutMs: number;
  logger: Logger;
}

/**
 * A user's groups and what they carry, read from auth (`GET /api/auth/users/:id/grants`, the
 * internal service token) through a cache of USER_LIMITS_CACHE_MS, like the user's own limits.
 * When auth cannot be reached, the last answer (up to 10 minutes old) stands in; without one the
 * request is refused 503 rather than let a group-restricted model through. An auth without the
 * route (404: older than group limits, mid-upgrade) means no grants.
 */
export class GroupGrants {
  private readonly fresh = new TtlCache<UserGrants>(MAX_CACHED);
  private readonly lastKnown = new TtlCache<UserGrants>(MAX_CACHED);
  private readonly http: AxiosInstance;

  constructor(private readonly options: GroupGrantsOptions) {
    this.http = axios.create({
      baseURL: options.authUrl,
      timeout: options.timeoutMs,
      maxRedirects: 0,
      validateStatus: () => true,
      headers: { Authorization: `Bearer ${options.serviceToken}`, Accept: 'application/json' },
    });
  }

  of(userId: string): Promise<UserGrants> {
    return this.fresh.getOrLoad(userId, this.options.cacheMs, () => this.load(userId));
  }

  /** Every group with its members' ids (admin usage by group): read fresh, 503 when auth cannot answer. */
  async memberships(): Promise<GroupMemberships['items']> {
    try {
      const res = await this.http.get<unknown>('/api/auth/groups/members');
      const parsed = res.status === 200 ? groupMemberships.safeParse(res.data) : undefined;
      if (parsed?.success) return parsed.data.items;
      this.options.logger.warn('group memberships answered unexpectedly', { status: res.status });
    } catch (error) {
      this.options.logger.warn('group memberships unreachable', {
        message: error instanceof Error ? error.message : String(error),
      });
    }
    throw new AppError('service_unavailable', 'auth service unreachable: cannot read the groups.', {
      headers: { 'Retry-After': '5' },
    });
  }

  private warnedOldAuth = false;
  private warnOldAuth(): void {
    if (this.warnedOldAuth) return;
    this.warnedOldAuth = true;
    this.options.logger.warn('auth has no group grants route (older version?): group limits not applied');
  }

  private async load(userId: string): Promise<UserGrants> {
    try {
      const res = await this.http.get<unknown>(`/api/auth/users/${encodeURIComponent(userId)}/grants`);
      const parsed = res.status === 200 ? userGrants.safeParse(res.data) : undefined;
      if (parsed?.success) {
        this.lastKnown.set(userId, parsed.data, STALE_MS);
        return parsed.data;
      }
      // An auth from before groups carried limits (a rolling upgrade): nobody has group grants yet.
      if (res.status === 404) {
        this.warnOldAuth();
        return { userId, groups: [], restrictedModels: [] };
      }
      this.options.logger.warn('group grants answered unexpectedly', { status: res.status });
    } catch (error) {
      this.options.logger.warn('group grants unreachable', {
        message: error instanceof Error ? error.message : String(error),
      });
    }
    const stale = this.lastKnown.get(userId);
    if (stale) return stale;
    throw new AppError('service_unavailable', 'auth service unreachable: cannot read your groups.', {
      headers: { 'Retry-After': '5' },
    });
  }
}
