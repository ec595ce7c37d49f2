// @vitest-environment jsdom
import { act, fireEvent, renderHook, waitFor } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testMessage } from '../../test/fixtures.js';
import { ApiError, NetworkError, type Message, type ReplyEvent } from '../api/index.js';
import { type ReplyResume, type ShownError, useReplyStream } from './useReplyStream.js';

/** A reply's events as the test hands them over, read the way api.chat.send's stream is. */
function replyFeed() {
  const queue: Array<{ event: ReplyEvent } | { error: unknown }> = [];
  let wake: (() => void) | undefined;
  const put = (item: { event: ReplyEvent } | { error: unknown }) => {
    queue.push(item);
    wake?.();
  };
  return {
    send: (event: ReplyEvent) => put({ event }),
    fail: (error: unknown) => put({ error }),
    async *read(signal: AbortSignal): AsyncGenerator<ReplyEvent> {
      signal.addEventListener('abort', () => put({ error: new DOMException('aborted', 'AbortError') }));
      for (;;) {
        while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        const next = queue.shift()!;
        if ('error' in next) throw next.error;
        yield next.event;
        if (next.event.type === 'done' || next.event.type === 'error') return;
      }
    },
  };
}

const question = testMessage('q1', null, 'user', 1, { conversationId: 'c1' });
const placeholder = testMessage('a1', 'q1', 'assistant', 2, { content: '', status: 'streaming' });
const start: ReplyEvent = {
  type: 'start',
  conversationId: 'c1',
  userMessage: question,
  assistantMessage: placeholder,
};

/** The hook with the message list and error notice a chat view keeps around it. */
function renderStream(resume?: ReplyResume) {
  const reload = vi.fn();
  const afterReply = vi.fn();
  const hook = renderHook(
    ({ shownConversationId }: { shownConversationId: string }) => {
      const [messages, setMessages] = useState<Message[]>([]);
      const [leafId, setLeafId] = useState<string | null>(null);
      const [shown, setShown] = useState<ShownError | null>(null);
      const stream = useReplyStream({
        shownConversationId,
        setMessages,
        setLeafId,
        onError: setShown,
        reload,
        afterReply,
        ...(resume ? { resume } : {}),
      });
      return { messages, leafId, shown, ...stream };
    },
    { initialProps: { shownConversationId: 'c1' } },
  );
  return { ...hook, reload, afterReply };
}

/** Starts a reply of conversation c1 read from `feed`; resolves when the hook is done with it. */
function startReply(
  { result }: ReturnType<typeof renderStream>,
  feed: ReturnType<typeof replyFeed>,
  onEarlyFailure?: () => void,
  retry?: () => void,
): Promise<void> {
  let running: Promise<void> = Promise.resolve();
  act(() => {
    running = result.current.run('c1', (signal) => feed.read(signal), onEarlyFailure, retry);
  });
  return running;
}

afterEach(() => vi.unstubAllGlobals());

describe('useReplyStream', () => {
  it('shows the text as it arrives, then saves the reply with its counts and speed', async () => {
    const stream = renderStream();
    const { result, afterReply } = stream;
    const feed = replyFeed();
    const running = startReply(stream, feed);
    expect(result.current.streaming).toBe(true);

    act(() => feed.send(start));
    await waitFor(() => expect(result.current.live).toEqual({ id: 'a1', text: '' }));
    expect(result.current.messages.map((m) => m.id)).toEqual(['q1', 'a1']);
    expect(result.current.leafId).toBe('a1');

    act(() => {
      feed.send({ type: 'token', text: 'Hel' });
      feed.send({ type: 'token', text: 'lo' });
    });
    await waitFor(() => expect(result.current.live).toEqual({ id: 'a1', text: 'Hello' }));

    act(() =>
      feed.send({
        type: 'done',
        summary: {
          messageId: 'a1',
          status: 'complete',
          promptTokens: 3,
          completionTokens: 2,
          durationMs: 100,
          tokensPerSecond: 20,
        },
      }),
    );
    await act(() => running);
    expect(result.current.streaming).toBe(false);
    expect(result.current.live).toBeNull();
    expect(result.current.messages[1]).toMatchObject({
      content: 'Hello',
      status: 'complete',
      error: null,
      completionTokens: 2,
      durationMs: 100,
    });
    expect(result.current.speeds).toEqual({ a1: 20 });
    expect(result.current.shown).toBeNull();
    expect(afterReply).toHaveBeenCalledExactlyOnceWith('c1');
  });

  it('a model failure marks the reply failed, keeps its text and shows why with a retry', async () => {
    const stream = renderStream();
    const { result, reload } = stream;
    const feed = replyFeed();
    const retry = vi.fn();
    const running = startReply(stream, feed, undefined, retry);
    act(() => {
      feed.send(start);
      feed.send({ type: 'token', text: 'Par' });
      feed.send({
        type: 'error',
        summary: {
          messageId: 'a1',
          status: 'error',
          promptTokens: null,
          completionTokens: null,
          durationMs: null,
          tokensPerSecond: null,
        },
        code: 'bad_gateway',
        message: 'model crashed',
      });
    });
    await act(() => running);
    expect(result.current.messages[1]).toMatchObject({
      content: 'Par',
      status: 'error',
      error: 'model crashed',
    });
    expect(result.current.shown?.error).toBeInstanceOf(ApiError);
    expect(result.current.shown?.error).toMatchObject({ code: 'bad_gateway', status: 502 });
    expect(result.current.shown?.retry).toBe(retry);
    expect(reload).not.toHaveBeenCalled();
  });

  it('a refusal before anything was saved gives the draft back and shows why, without reloading', async () => {
    const stream = renderStream();
    const { result, reload, afterReply } = stream;
    const feed = replyFeed();
    const giveDraftBack = vi.fn();
    const refused = new Error('daily budget spent');
    const running = startReply(stream, feed, giveDraftBack);
    act(() => feed.fail(refused));
    await act(() => running);
    expect(giveDraftBack).toHaveBeenCalledOnce();
    expect(result.current.shown?.error).toBe(refused);
    expect(result.current.messages).toEqual([]);
    expect(reload).not.toHaveBeenCalled();
    expect(afterReply).toHaveBeenCalledWith('c1');
  });

  it('a stream cut mid-way reloads the conversation, which the server kept', async () => {
    const stream = renderStream();
    const { result, reload } = stream;
    const feed = replyFeed();
    const running = startReply(stream, feed);
    act(() => {
      feed.send(start);
      feed.fail(new TypeError('network error'));
    });
    await act(() => running);
    expect(reload).toHaveBeenCalledExactlyOnceWith('c1');
    act(() => result.current.shown?.retry?.());
    expect(reload).toHaveBeenCalledTimes(2);
  });

  it('Escape asks the server to stop the reply; when that fails the stream is cut', async () => {
    const stops: string[] = [];
    let stopAnswer = 200;
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        stops.push(`${init?.method ?? 'GET'} ${new URL(String(input), 'http://corral.test').pathname}`);
        return stopAnswer === 200
          ? Response.json({ stopping: ['a1'] })
          : Response.json({ code: 'internal', status: stopAnswer }, { status: stopAnswer });
      }),
    );
    const stream = renderStream();
    const { result, reload } = stream;
    const feed = replyFeed();
    const running = startReply(stream, feed);
    act(() => feed.send(start));
    await waitFor(() => expect(result.current.live).not.toBeNull());

    fireEvent.keyDown(window, { key: 'Escape' });
    await waitFor(() => expect(stops).toEqual(['POST /api/conversations/c1/stop']));
    expect(result.current.streaming).toBe(true);

    stopAnswer = 500;
    act(() => result.current.stop());
    await act(() => running);
    expect(stops).toHaveLength(2);
    expect(result.current.shown?.error).toBeInstanceOf(NetworkError);
    expect(reload).toHaveBeenCalledWith('c1');
    expect(result.current.streaming).toBe(false);
  });

  it('a dropped connection resumes after the last token seen, and the reply ends complete', async () => {
    const resumed: number[] = [];
    const rest = replyFeed();
    const stream = renderStream((conversationId, messageId, after, signal) => {
      resumed.push(after);
      expect([conversationId, messageId]).toEqual(['c1', 'a1']);
      return rest.read(signal);
    });
    const { result, reload } = stream;
    const feed = replyFeed();
    const running = startReply(stream, feed);
    act(() => {
      feed.send(start);
      feed.send({ type: 'token', text: 'Hel' });
      feed.send({ type: 'token', text: 'lo' });
      feed.fail(new NetworkError('The connection was lost while the reply was streaming.'));
    });
    await waitFor(() => expect(resumed).toEqual([2]));
    expect(result.current.streaming).toBe(true);
    act(() => {
      rest.send({ type: 'token', text: ' there' });
      rest.send({
        type: 'done',
        summary: {
          messageId: 'a1',
          status: 'complete',
          promptTokens: 3,
          completionTokens: 3,
          durationMs: 100,
          tokensPerSecond: 30,
        },
      });
    });
    await act(() => running);
    expect(result.current.messages[1]).toMatchObject({ content: 'Hello there', status: 'complete' });
    expect(result.current.shown).toBeNull();
    expect(reload).not.toHaveBeenCalled();
  });

  it('a reply goes on while another conversation is on screen, without Stop there, and shows on return', async () => {
    const stream = renderStream();
    const { result, rerender } = stream;
    const feed = replyFeed();
    const running = startReply(stream, feed);
    act(() => {
      feed.send(start);
      feed.send({ type: 'token', text: 'Hel' });
    });
    await waitFor(() => expect(result.current.live).toEqual({ id: 'a1', text: 'Hel' }));
    rerender({ shownConversationId: 'c2' });
    expect(result.current.streaming).toBe(false);
    expect(result.current.live).toBeNull();
    act(() => feed.send({ type: 'token', text: 'lo' }));
    rerender({ shownConversationId: 'c1' });
    await waitFor(() => expect(result.current.live).toEqual({ id: 'a1', text: 'Hello' }));
    expect(result.current.streaming).toBe(true);
    act(() =>
      feed.send({
        type: 'done',
        summary: {
          messageId: 'a1',
          status: 'complete',
          promptTokens: 1,
          completionTokens: 2,
          durationMs: 1,
          tokensPerSecond: null,
        },
      }),
    );
    await act(() => running);
    expect(result.current.streaming).toBe(false);
  });
});
