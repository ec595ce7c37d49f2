import {
  adminUsagePage,
  attachmentResponse,
  apiKeyLimitsResponse,
  backendPool,
  chatSummary,
  conversationPage,
  conversationResponse,
  exportFile,
  groupUsageResponse,
  importResult,
  messageList,
  modelListing,
  modelRemoval,
  poolModelListing,
  poolModelView,
  openAiErrorResponse,
  problemDetails,
  pullLine,
  replyEventData,
  stopResult,
  usageResponse,
  userLimitsResponse,
} from '@corral/contracts';
import { type ContractRoute, PROBE_ROUTES, contractCheck } from '@corral/test-support';
import { afterEach } from 'vitest';

/** Every route chat-api answers, with the contract of its answer (specific paths before `:id`). */
export const CHAT_API_ROUTES: readonly ContractRoute[] = [
  { method: 'GET', path: '/api/conversations/export', body: exportFile },
  { method: 'POST', path: '/api/conversations/import', body: importResult },
  { method: 'GET', path: '/api/conversations', body: conversationPage },
  { method: 'POST', path: '/api/conversations', body: conversationResponse },
  { method: 'GET', path: '/api/conversations/:id/export', body: exportFile },
  { method: 'GET', path: '/api/conversations/:id/messages', body: messageList },
  { method: 'POST', path: '/api/conversations/start', body: null, events: replyEventData },
  { method: 'POST', path: '/api/conversations/:id/messages', body: null, events: replyEventData },
  {
    method: 'POST',
    path: '/api/conversations/:id/messages/:messageId/regenerate',
    body: null,
    events: replyEventData,
  },
  {
    method: 'POST',
    path: '/api/conversations/:id/messages/:messageId/edit',
    body: null,
    events: replyEventData,
  },
  {
    method: 'GET',
    path: '/api/conversations/:id/messages/:messageId/stream',
    body: null,
    events: replyEventData,
  },
  { method: 'POST', path: '/api/conversations/:id/stop', body: stopResult },
  { method: 'POST', path: '/api/conversations/:id/attachments', body: attachmentResponse },
  { method: 'GET', path: '/api/conversations/:id/attachments/:attachmentId', body: null },
  { method: 'GET', path: '/api/conversations/:id', body: conversationResponse },
  { method: 'PATCH', path: '/api/conversations/:id', body: conversationResponse },
  { method: 'DELETE', path: '/api/conversations/:id', body: null },
  { method: 'GET', path: '/api/models', body: modelListing },
  { method: 'GET', path: '/api/usage', body: usageResponse },
  { method: 'GET', path: '/api/admin/users/:userId/limits', body: userLimitsResponse },
  { method: 'PUT', path: '/api/admin/users/:userId/limits', body: userLimitsResponse },
  { method: 'GET', path: '/api/admin/api-keys/:keyId/limits', body: apiKeyLimitsResponse },
  { method: 'PUT', path: '/api/admin/api-keys/:keyId/limits', body: apiKeyLimitsResponse },
  { method: 'GET', path: '/api/admin/usage', body: adminUsagePage },
  { method: 'GET', path: '/api/admin/usage/groups', body: groupUsageResponse },
  { method: 'GET', path: '/api/admin/backends', body: backendPool },
  { method: 'POST', path: '/api/admin/models/pull', body: null, lines: pullLine },
  { method: 'GET', path: '/api/admin/models', body: poolModelListing },
  { method: 'PUT', path: '/api/admin/models/:name/availability', body: poolModelView },
  { method: 'DELETE', path: '/api/admin/models/:name', body: modelRemoval },
  { method: 'GET', path: '/api/metrics/chat', body: chatSummary },
  // OpenAI's wire format: the openai SDK in the tests reads the answers; errors are OpenAI's body.
  { method: '*', path: '/v1/*', body: null, errors: openAiErrorResponse },
  ...PROBE_ROUTES,
];

/** Every chat-api this file's tests serve answers through this check; each test ends with it clean. */
export const contract = contractCheck(CHAT_API_ROUTES, problemDetails);

afterEach(() => contract.assertClean());
