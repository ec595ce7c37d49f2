// `corral doctor --smoke`: one chat completion and one embedding through /v1 with a short-lived
// API key of the admin's, revoked afterwards whatever happened.
import axios from 'axios';
import { adminSession, call } from '../admin-session.js';
import { errorMessage } from '../errors.js';
import type { Targets } from '../targets.js';
import { type CheckResult, fail, pass } from './report.js';

const KEY_LIFETIME_MS = 15 * 60_000;

export async function runSmoke(
  targets: Targets,
  authUrl: string,
  v1Url: string,
  models: { chat: string[]; embeddings: string[] },
): Promise<CheckResult[]> {
  let session: Awaited<ReturnType<typeof adminSession>>;
  try {
    session = await adminSession(targets, authUrl);
  } catch (error) {
    return [
      fail(
        'smoke',
        errorMessage(error),
        'give the doctor CORRAL_ADMIN_EMAIL/CORRAL_ADMIN_PASSWORD (an admin account), or CORRAL_ADMIN_API_KEY(_FILE): a key with the keys and inference scopes',
      ),
    ];
  }
  let created: { key: string; apiKey: { id: string } };
  try {
    created = await call<{ key: string; apiKey: { id: string } }>(
      session.http,
      'post',
      '/api/auth/api-keys',
      'creating the smoke key',
      {
        name: `corral-doctor-smoke-${new Date().toISOString()}`,
        // /v1 only, also when made from an admin's key (whose scopes it would otherwise inherit).
        scopes: ['inference'],
        expiresAt: new Date(Date.now() + KEY_LIFETIME_MS).toISOString(),
      },
    );
  } catch (error) {
    return [
      fail(
        'smoke',
        errorMessage(error),
        'an admin API key needs the keys and inference scopes, and no expiry within 15 minutes',
      ),
    ];
  }
  const results: CheckResult[] = [];
  const v1 = axios.create({
    baseURL: `${v1Url}/v1`,
    timeout: 60_000,
    headers: { Authorization: `Bearer ${created.key}` },
    validateStatus: () => true,
  });
  try {
    const chatModel = models.chat[0];
    if (!chatModel) results.push(fail('smoke chat', 'no chat model to ask', 'pull a chat model first'));
    else {
      const response = await v1.post('/chat/completions', {
        model: chatModel,
        messages: [{ role: 'user', content: 'Reply with one word: ready?' }],
        max_tokens: 16,
      });
      const text = (response.data as { choices?: { message?: { content?: string } }[] })?.choices?.[0]
        ?.message?.content;
      results.push(
        response.status === 200 && typeof text === 'string' && text.length > 0
          ? pass('smoke chat', `${chatModel} answered through /v1/chat/completions`)
          : fail(
              'smoke chat',
              `HTTP ${response.status} from /v1/chat/completions (${chatModel})`,
              'see chat-api and gateway logs; corral status shows the pool',
            ),
      );
    }
    const embeddingModel = models.embeddings[0];
    if (!embeddingModel)
      results.push(fail('smoke embeddings', 'no embeddings model to ask', 'pull an embeddings model first'));
    else {
      const response = await v1.post('/embeddings', {
        model: embeddingModel,
        input: 'corral doctor smoke test',
      });
      const vector = (response.data as { data?: { embedding?: number[] }[] })?.data?.[0]?.embedding;
      results.push(
        response.status === 200 && Array.isArray(vector) && vector.length > 0
          ? pass('smoke embeddings', `${embeddingModel} returned a ${vector.length}-dimension vector`)
          : fail(
              'smoke embeddings',
              `HTTP ${response.status} from /v1/embeddings (${embeddingModel})`,
              'see chat-api and gateway logs',
            ),
      );
    }
  } finally {
    try {
      await call(session.http, 'delete', `/api/auth/api-keys/${created.apiKey.id}`, 'revoking the smoke key');
      results.push(pass('smoke key revoked', `key ${created.apiKey.id} revoked`));
    } catch (error) {
      results.push(
        fail(
          'smoke key revoked',
          errorMessage(error),
          `revoke it by hand: it expires by itself within ${KEY_LIFETIME_MS / 60_000} minutes`,
        ),
      );
    }
  }
  return results;
}
