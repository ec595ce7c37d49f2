import type { ServiceAuditEntry } from '@corral/contracts';
import type { Logger } from '@corral/service-kit';
import axios, { type AxiosInstance } from 'axios';

export interface AuditTrailOptions {
  /** `{AUTH_URL}` */
  authUrl: string;
  serviceToken: string;
  timeoutMs: number;
  logger: Logger;
}

/**
 * Admins' changes to the model pool, recorded in auth's audit log (`POST /api/auth/audit-events`,
 * the internal service token), where every other admin action is. A write that fails is logged
 * with the whole entry (so it is not lost) and does not undo the change it records.
 */
export class AuditTrail {
  private readonly http: AxiosInstance;

  constructor(private readonly options: AuditTrailOptions) {
    this.http = axios.create({
      baseURL: options.authUrl,
      timeout: options.timeoutMs,
      maxRedirects: 0,
      validateStatus: () => true,
      headers: { Authorization: `Bearer ${options.serviceToken}`, 'Content-Type': 'application/json' },
    });
  }

  async record(entry: ServiceAuditEntry): Promise<void> {
    try {
      const res = await this.http.post('/api/auth/audit-events', entry);
      if (res.status === 204) return;
      this.options.logger.error('audit event refused by auth', { status: res.status, entry });
    } catch (error) {
      this.options.logger.error('audit event not recorded: auth unreachable', {
        entry,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
