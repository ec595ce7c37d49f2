// The web app's calls the upgrade rehearsal makes through the front: sign-in, an API key, a
// conversation, a reply streamed as Server-Sent Events (kept track of by event id, so a lost stream
// can resume with Last-Event-ID), the stored messages read back.

export interface StoredMessage {
  id: string;
  role: string;
  content: string;
  status?: string;
}

export interface StreamedReply {
  messageId?: string;
  text: string;
  /** `done`'s status (complete, stopped, interrupted), or `error`, or undefined when the stream broke. */
  status?: string;
  /** The last `id:` seen, what a resuming client sends back as Last-Event-ID. */
  lastEventId?: string;
  events: number;
  /** The reply came as the saved text (`snapshot`), not as tokens after Last-Event-ID. */
  snapshot?: boolean;
}

export class ChatClient {
  token = '';

  constructor(
    private readonly fetchFn: typeof fetch,
    private readonly base: string,
  ) {}

  private async call(path: string, init: { method?: string; body?: unknown } = {}): Promise<unknown> {
    const res = await this.fetchFn(`${this.base}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        Accept: 'application/json',
        ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  async login(email: string, password: string): Promise<void> {
    this.token = (
      (await this.call('/api/auth/login', { body: { email, password } })) as { accessToken: string }
    ).accessToken;
  }

  async createApiKey(name: string): Promise<string> {
    return ((await this.call('/api/auth/api-keys', { body: { name } })) as { key: string }).key;
  }

  async createConversation(title: string, model: string): Promise<string> {
    return (
      (await this.call('/api/conversations', { body: { title, model } })) as { conversation: { id: string } }
    ).conversation.id;
  }

  async messages(conversationId: string): Promise<StoredMessage[]> {
    const body = (await this.call(`/api/conversations/${conversationId}/messages`)) as
      { items?: StoredMessage[]; messages?: StoredMessage[] } | StoredMessage[];
    return Array.isArray(body) ? body : (body.items ?? body.messages ?? []);
  }

  /** Sends a message and reads its reply's events until `done`/`error` or the stream ends. */
  send(conversationId: string, content: string, onEvent?: (event: string) => void): Promise<StreamedReply> {
    return this.stream(`/api/conversations/${conversationId}/messages`, { content }, undefined, onEvent);
  }

  /** Resumes a reply from Last-Event-ID (the current chat-api's `GET …/messages/:id/stream`). */
  resume(conversationId: string, reply: StreamedReply): Promise<StreamedReply> {
    return this.stream(
      `/api/conversations/${conversationId}/messages/${reply.messageId}/stream`,
      undefined,
      reply.lastEventId ?? '0',
    );
  }

  private async stream(
    path: string,
    body: unknown,
    lastEventId?: string,
    onEvent?: (event: string) => void,
  ): Promise<StreamedReply> {
    const reply: StreamedReply = { text: '', events: 0 };
    const res = await this.fetchFn(`${this.base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        Accept: 'text/event-stream',
        Authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status !== 200 || !res.body) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          this.onBlock(block, reply);
          if (reply.events > 0) onEvent?.(block);
        }
      }
    } catch {
      // The stream broke: what arrived is in `reply`, status stays undefined.
    }
    return reply;
  }

  private onBlock(block: string, reply: StreamedReply): void {
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
      else if (line.startsWith('id: ')) reply.lastEventId = line.slice(4);
    }
    if (!data) return;
    reply.events += 1;
    const payload = JSON.parse(data) as {
      text?: string;
      status?: string;
      messageId?: string;
      assistantMessage?: { id: string };
    };
    if (event === 'start') reply.messageId = payload.assistantMessage?.id;
    else if (event === 'token') reply.text += payload.text ?? '';
    else if (event === 'snapshot') {
      reply.text = payload.text ?? reply.text;
      reply.snapshot = true;
    } else if (event === 'done') reply.status = payload.status;
    else if (event === 'error') reply.status = 'error';
  }
}
