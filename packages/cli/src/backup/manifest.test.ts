import { describe, expect, it } from 'vitest';
import { compareFacts, type DatabaseFacts } from './manifest.js';

const facts = (): DatabaseFacts => ({
  migrations: { chat: { head: '20261123100000_messages_user_search', applied: 3 } },
  tables: { 'chat.conversations': 25, 'chat.messages': 50 },
});

describe('compareFacts', () => {
  it('finds no difference between equal facts', () => {
    expect(compareFacts(facts(), facts())).toEqual([]);
  });

  it('names every table whose rows differ, is missing or is extra, and a different migration head', () => {
    const restored = facts();
    restored.tables['chat.messages'] = 0;
    delete restored.tables['chat.conversations'];
    restored.tables['chat.extra'] = 1;
    restored.migrations.chat = { head: '20251201100000_titles_limits_retention', applied: 2 };
    expect(compareFacts(facts(), restored)).toEqual([
      'chat.conversations: in the manifest (25 rows) but not restored',
      'chat.messages: manifest 50 rows, restored 0',
      'chat.extra: restored but not in the manifest',
      'chat migrations: manifest 20261123100000_messages_user_search (3 applied), restored 20251201100000_titles_limits_retention (2 applied)',
    ]);
  });
});
