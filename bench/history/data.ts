/** What the history seed generates, shared by seed.ts and run.ts. */
export const HISTORY_DATABASE = process.env.BENCH_HISTORY_DB ?? 'corral_bench_history';
export const HISTORY_USER_EMAIL = 'history-bench@bench.local';

/** The measured user: 10,000 conversations of 30 messages (300,000 messages). */
export const USER_CONVERSATIONS = 10_000;
export const USER_MESSAGES_PER_CONVERSATION = 30;
/** Everyone else: 35,000 conversations of 20 messages (700,000), so the table holds 1,000,000. */
export const OTHER_USERS = 100;
export const OTHER_CONVERSATIONS = 35_000;
export const OTHER_MESSAGES_PER_CONVERSATION = 20;
export const TOTAL_MESSAGES =
  USER_CONVERSATIONS * USER_MESSAGES_PER_CONVERSATION + OTHER_CONVERSATIONS * OTHER_MESSAGES_PER_CONVERSATION;

/** Search terms by how often they occur (run.ts reports the measured share of messages holding each). */
export const SEARCH_TERMS = { common: 'gradient', medium: 'kubernetes', rare: 'zanzibar' } as const;
