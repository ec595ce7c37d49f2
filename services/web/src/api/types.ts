// The shapes of auth's and chat-api's answers come from @corral/contracts (one definition, shared
// with the services and their tests); what is left here is the web app's own.
export type {
  AdminUsageRow,
  Assistant,
  Prompt,
  Share,
  SharedConversation,
  Attachment,
  ApiKey,
  AuditEvent,
  BackendPool,
  BackendView as Backend,
  Conversation,
  CreatedApiKey,
  ImportResult,
  Message,
  MessageList,
  MessageStatus,
  Page,
  PullSummary,
  ReplyEvent,
  ReplySummary,
  Role,
  Session,
  UsageResponse,
  UsageRow,
  User,
  UserLimits,
  UserLimitsResponse as UserLimitsView,
  UserStatus,
} from '@corral/contracts';

/** A model in the chat's picker. */
export interface ModelInfo {
  id: string;
  /** As Ollama reports them (`vision`: takes images, `thinking`: reasons before answering). */
  capabilities: string[];
  /** The longest message this model takes, in characters (unknown for a model no longer listed). */
  maxMessageChars?: number;
}
