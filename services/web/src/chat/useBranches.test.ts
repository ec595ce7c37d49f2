// @vitest-environment jsdom
import { act, renderHook } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testConversation, testMessage } from '../../test/fixtures.js';
import { useBranches } from './useBranches.js';

// q1 ─ a1 ─ q2 ─ a2        the first branch
//   └─ a1b ─ q3 ─ a3        regenerated: a second answer to q1, then a newer exchange under it
const TREE = [
  testMessage('q1', null, 'user', 1),
  testMessage('a1', 'q1', 'assistant', 2),
  testMessage('q2', 'a1', 'user', 3),
  testMessage('a2', 'q2', 'assistant', 4),
  testMessage('a1b', 'q1', 'assistant', 5),
  testMessage('q3', 'a1b', 'user', 6),
  testMessage('a3', 'q3', 'assistant', 7),
];
const conversation = testConversation('c1', { currentMessageId: 'a2' });

let patches: unknown[];

/** chat-api's PATCH /api/conversations/:id, answering `status` (the conversation as saved on 200). */
function servePatch(status = 200) {
  patches = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_input: RequestInfo | URL, init?: RequestInit) => {
      const body = JSON.parse(String(init?.body)) as { currentMessageId: string };
      patches.push(body);
      return status === 200
        ? Response.json({ conversation: { ...conversation, currentMessageId: body.currentMessageId } })
        : Response.json(
            {
              type: 'urn:corral:error:conflict',
              title: 'Conflict',
              status,
              code: 'conflict',
              detail: 'busy',
            },
            { status, headers: { 'Content-Type': 'application/problem+json' } },
          );
    }),
  );
}

afterEach(() => vi.unstubAllGlobals());

function renderBranches() {
  const hook = renderHook(() => useBranches());
  act(() => hook.result.current.show(TREE, 'a2'));
  return hook;
}

describe('useBranches', () => {
  it('shows the branch from the root to the leaf, and the alternatives where there are some', () => {
    const { result } = renderBranches();
    expect(result.current.shown.map((m) => m.id)).toEqual(['q1', 'a1', 'q2', 'a2']);
    const [q1, a1] = result.current.shown;
    expect(result.current.branchAt(q1!, vi.fn())).toBeUndefined();
    expect(result.current.branchAt(a1!, vi.fn())).toMatchObject({ index: 0, count: 2 });
  });

  it('going to the next alternative lands on the newest leaf under it', () => {
    const { result } = renderBranches();
    const onSwitch = vi.fn();
    result.current.branchAt(result.current.shown[1]!, onSwitch)!.go(1);
    expect(onSwitch).toHaveBeenCalledExactlyOnceWith('a3');
    result.current.branchAt(result.current.shown[1]!, onSwitch)!.go(-1);
    expect(onSwitch).toHaveBeenCalledTimes(1);
  });

  it('switching shows the branch at once and saves it as the current one', async () => {
    servePatch();
    const { result } = renderBranches();
    let saved: unknown;
    await act(async () => {
      saved = await result.current.switchBranch(conversation, 'a3', false);
    });
    expect(result.current.shown.map((m) => m.id)).toEqual(['q1', 'a1b', 'q3', 'a3']);
    expect(patches).toEqual([{ currentMessageId: 'a3' }]);
    expect(saved).toMatchObject({ id: 'c1', currentMessageId: 'a3' });
    expect(result.current.branchUnsaved).toBe(false);
  });

  it('saves nothing while a reply is on its way, nor for the branch already current', async () => {
    servePatch();
    const { result } = renderBranches();
    await act(async () => {
      expect(await result.current.switchBranch(conversation, 'a3', true)).toBeNull();
      expect(await result.current.switchBranch(conversation, 'a2', false)).toBeNull();
    });
    expect(patches).toEqual([]);
    expect(result.current.leafId).toBe('a2');
  });

  it('a failed save keeps the view, says the branch is unsaved, and clears when another conversation opens', async () => {
    servePatch(409);
    const { result } = renderBranches();
    await act(async () => {
      await expect(result.current.switchBranch(conversation, 'a3', false)).rejects.toMatchObject({
        status: 409,
      });
    });
    expect(result.current.leafId).toBe('a3');
    expect(result.current.branchUnsaved).toBe(true);
    expect(result.current.viewingUnsavedBranch(conversation)).toBe(true);

    act(() => result.current.clearUnsaved());
    expect(result.current.viewingUnsavedBranch(conversation)).toBe(false);
  });
});
