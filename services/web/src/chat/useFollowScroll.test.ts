// @vitest-environment jsdom
import { act, renderHook } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { useFollowScroll } from './chat-view-hooks.js';

/** A message list 1,000 px tall in a 400 px view, whose end marker scrolls it to the bottom. */
function mount(changes: { text: string }) {
  const box = document.createElement('div');
  Object.defineProperty(box, 'scrollHeight', { value: 1000 });
  Object.defineProperty(box, 'clientHeight', { value: 400 });
  const scrollIntoView = vi.fn(() => {
    box.scrollTop = 600;
  });
  const endRef = { current: { scrollIntoView } as unknown as HTMLDivElement };
  const hook = renderHook(
    ({ text }) => {
      const follow = useFollowScroll('c1', endRef, [text]);
      follow.messagesRef.current = box;
      return follow;
    },
    { initialProps: changes },
  );
  return { box, scrollIntoView, hook };
}

describe('useFollowScroll', () => {
  it('follows the reply down while the view is at the bottom', () => {
    const { box, scrollIntoView, hook } = mount({ text: '' });
    hook.rerender({ text: 'a' });
    hook.rerender({ text: 'ab' });
    expect(scrollIntoView).toHaveBeenCalledTimes(3);
    expect(box.scrollTop).toBe(600);
    expect(hook.result.current.following).toBe(true);
  });

  it('stops following when the user moved up before the scroll event came (a token rendered first)', () => {
    const { box, scrollIntoView, hook } = mount({ text: '' });
    hook.rerender({ text: 'a' });
    const calls = scrollIntoView.mock.calls.length;
    box.scrollTop = 120; // the user's move; its scroll event is only sent with the next frame
    hook.rerender({ text: 'ab' });
    expect(scrollIntoView).toHaveBeenCalledTimes(calls);
    expect(box.scrollTop).toBe(120);
    expect(hook.result.current.following).toBe(false);
    hook.rerender({ text: 'abc' });
    expect(box.scrollTop).toBe(120);
  });

  it('stops following at once when the wheel turns up, and follows again when asked (a send)', () => {
    const { box, scrollIntoView, hook } = mount({ text: '' });
    act(() => hook.result.current.onMessagesWheel({ deltaY: -80 }));
    expect(hook.result.current.following).toBe(false);
    const calls = scrollIntoView.mock.calls.length;
    hook.rerender({ text: 'a' });
    expect(scrollIntoView).toHaveBeenCalledTimes(calls);

    box.scrollTop = 0;
    act(() => hook.result.current.setFollow(true));
    hook.rerender({ text: 'ab' });
    expect(box.scrollTop).toBe(600);
    expect(hook.result.current.following).toBe(true);
    // A wheel turned down changes nothing.
    act(() => hook.result.current.onMessagesWheel({ deltaY: 80 }));
    expect(hook.result.current.following).toBe(true);
  });
});
