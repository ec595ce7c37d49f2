// @vitest-environment jsdom
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { testMessage } from '../../test/fixtures.js';
import { MessageItem } from './MessageItem.js';

afterEach(cleanup);

/** The reasoning disclosure of a rendered reply: whether it is open, its summary and its text. */
function thinkingOf(container: HTMLElement) {
  const details = container.querySelector<HTMLDetailsElement>('details.message__thinking');
  if (!details) return null;
  return {
    open: details.open,
    summary: details.querySelector('summary')?.textContent,
    text: details.querySelector('p')?.textContent,
  };
}

describe('a reply’s reasoning', () => {
  it('saved with the reply shows after a reload as the same collapsed “Thought” disclosure', () => {
    const reply = testMessage('a1', 'u1', 'assistant', 1, {
      content: 'Paris.',
      reasoning: 'The capital of France…',
    });
    const stored = render(<MessageItem message={reply} busy={false} />);
    const live = render(
      <MessageItem
        message={{ ...reply, reasoning: null }}
        liveThinking="The capital of France…"
        busy={false}
      />,
    );
    const expected = { open: false, summary: 'Thought', text: 'The capital of France…' };
    expect(thinkingOf(stored.container)).toEqual(expected);
    expect(thinkingOf(live.container)).toEqual(expected);
  });

  it('of a reply stopped while it thought is a “Thought”, not still “Thinking…”', () => {
    const reply = testMessage('a1', 'u1', 'assistant', 1, {
      content: '',
      status: 'stopped',
      reasoning: 'Let me see',
    });
    expect(thinkingOf(render(<MessageItem message={reply} busy={false} />).container)).toMatchObject({
      summary: 'Thought',
      text: 'Let me see',
    });
  });

  it('is absent for a reply without one, and while the reply thinks it says so', () => {
    const plain = testMessage('a1', 'u1', 'assistant', 1);
    expect(thinkingOf(render(<MessageItem message={plain} busy={false} />).container)).toBeNull();
    const thinking = render(
      <MessageItem
        message={{ ...plain, content: '', status: 'streaming' }}
        liveText=""
        liveThinking="Hmm"
        busy
      />,
    );
    expect(thinkingOf(thinking.container)).toMatchObject({ open: false, summary: 'Thinking…' });
  });
});
