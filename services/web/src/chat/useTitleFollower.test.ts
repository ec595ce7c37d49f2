// @vitest-environment jsdom
import { renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { testConversation } from '../../test/fixtures.js';
import type { Conversation } from '../api/index.js';
import { TITLE_CHECKS_MS, useTitleFollower } from './useTitleFollower.js';

let reads: string[];

/** chat-api's GET /api/conversations/:id answering these conversations in turn (the last one again after). */
function serve(...answers: Conversation[]) {
  reads = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL) => {
      reads.push(new URL(String(input), 'http://corral.test').pathname);
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      return Response.json({ conversation: answer });
    }),
  );
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const placeholder = testConversation('c1', { title: 'What is a llama', titleSource: 'auto' });
const titled = testConversation('c1', { title: 'Llamas explained', titleSource: 'generated' });

describe('useTitleFollower', () => {
  it('re-reads a conversation with a placeholder title until the generated one is there', async () => {
    serve(placeholder, titled);
    const onTitle = vi.fn();
    const { result } = renderHook(() => useTitleFollower());
    result.current(placeholder, onTitle);

    await vi.advanceTimersByTimeAsync(TITLE_CHECKS_MS[0]!);
    expect(reads).toEqual(['/api/conversations/c1']);
    expect(onTitle).not.toHaveBeenCalled();

    await vi.advanceTimersByTimeAsync(TITLE_CHECKS_MS[1]!);
    expect(reads).toHaveLength(2);
    expect(onTitle).toHaveBeenCalledExactlyOnceWith(titled);

    // Done: nothing is read again.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reads).toHaveLength(2);
  });

  it('follows a conversation once at a time, and not at all when its title is not a placeholder', async () => {
    serve(placeholder);
    const { result } = renderHook(() => useTitleFollower());
    result.current(placeholder, vi.fn());
    result.current(placeholder, vi.fn());
    result.current(testConversation('c2', { titleSource: 'user' }), vi.fn());
    await vi.advanceTimersByTimeAsync(TITLE_CHECKS_MS[0]!);
    expect(reads).toEqual(['/api/conversations/c1']);
  });

  it('gives up after the last check, and may follow the conversation again after that', async () => {
    serve(placeholder);
    const onTitle = vi.fn();
    const { result } = renderHook(() => useTitleFollower());
    result.current(placeholder, onTitle);
    await vi.advanceTimersByTimeAsync(TITLE_CHECKS_MS.reduce((a, b) => a + b, 0) + 60_000);
    expect(reads).toHaveLength(TITLE_CHECKS_MS.length);
    expect(onTitle).not.toHaveBeenCalled();

    result.current(placeholder, onTitle);
    await vi.advanceTimersByTimeAsync(TITLE_CHECKS_MS[0]!);
    expect(reads).toHaveLength(TITLE_CHECKS_MS.length + 1);
  });

  it('stops following when its owner unmounts', async () => {
    serve(titled);
    const onTitle = vi.fn();
    const { result, unmount } = renderHook(() => useTitleFollower());
    result.current(placeholder, onTitle);
    unmount();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reads).toEqual([]);
    expect(onTitle).not.toHaveBeenCalled();
  });
});
