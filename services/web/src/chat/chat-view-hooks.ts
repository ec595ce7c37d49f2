import {
  type Dispatch,
  type RefObject,
  type SetStateAction,
  useCallback,
  useEffect,
  useRef,
  useState,
} from 'react';
import type { PendingImage } from './Composer.js';
import { loadDraft, saveDraft } from './drafts.js';

/** Within this many pixels of the end, the message list counts as "at the bottom" (and follows the reply). */
const BOTTOM_SLACK_PX = 48;

/** The composer's text for one chat (or the new-chat screen), kept in this tab's storage too. */
export function useDraft(draftKey: string): [string, (text: string, key?: string) => void] {
  const [draft, setDraftState] = useState(() => loadDraft(draftKey));
  const draftKeyRef = useRef(draftKey);
  /** What is typed is also kept in this tab's storage (a reload or an expired session keeps it). */
  const setDraft = useCallback((text: string, key = draftKeyRef.current) => {
    saveDraft(key, text);
    if (key === draftKeyRef.current) setDraftState(text);
  }, []);
  useEffect(() => {
    draftKeyRef.current = draftKey;
    setDraftState(loadDraft(draftKey));
  }, [draftKey]);
  return [draft, setDraft];
}

/** Adding and removing the images chosen for the next message; images chosen in another conversation are dropped. */
export function usePendingImages(
  id: string | undefined,
  setImages: Dispatch<SetStateAction<PendingImage[]>>,
): { addImages: (files: File[]) => void; removeImage: (key: string) => void } {
  const addImages = (files: File[]) =>
    setImages((shown) => [
      ...shown,
      ...files.map((file) => ({ key: crypto.randomUUID(), file, url: URL.createObjectURL(file) })),
    ]);
  const removeImage = (key: string) =>
    setImages((shown) => {
      const gone = shown.find((image) => image.key === key);
      if (gone) URL.revokeObjectURL(gone.url);
      return shown.filter((image) => image.key !== key);
    });
  // Images chosen in another conversation are not carried over.
  useEffect(
    () => () =>
      setImages((shown) => {
        for (const image of shown) URL.revokeObjectURL(image.url);
        return [];
      }),
    [id],
  );
  return { addImages, removeImage };
}

/** The message list's scroll-follow state for the chat `id`; `changes` are what grows the reply. */
export function useFollowScroll(
  id: string | undefined,
  endRef: RefObject<HTMLDivElement | null>,
  changes: unknown[],
) {
  // Follows the reply down only while the user is at the bottom: scrolled up to read, the view stays
  // where it is and "Jump to latest" brings it back.
  const messagesRef = useRef<HTMLDivElement>(null);
  const [following, setFollowing] = useState(true);
  const followingRef = useRef(true);
  /** Where the view was left by its own last follow: above it, the user has moved since. */
  const ownTopRef = useRef<number | null>(null);
  const setFollow = (value: boolean) => {
    followingRef.current = value;
    // Asked to follow again (a send, Jump to latest): wherever the view is now is not a move away.
    if (value) ownTopRef.current = null;
    setFollowing(value);
  };
  const onMessagesScroll = () => {
    const box = messagesRef.current;
    if (!box) return;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight <= BOTTOM_SLACK_PX;
    if (atBottom !== followingRef.current) setFollow(atBottom);
  };
  // A wheel turned up stops following at once: its scroll event only comes with the next frame, and
  // a token rendered before then would pull the view back down.
  const onMessagesWheel = (event: { deltaY: number }) => {
    if (event.deltaY < 0 && followingRef.current) setFollow(false);
  };
  const jumpToLatest = () => {
    setFollow(true);
    endRef.current?.scrollIntoView?.({ block: 'end' });
    ownTopRef.current = messagesRef.current?.scrollTop ?? null;
  };
  useEffect(() => {
    setFollow(true);
  }, [id]);
  useEffect(() => {
    if (!followingRef.current) return;
    const box = messagesRef.current;
    // Moved up since the last follow, its scroll event not handled yet (a scrollbar drag, keys, touch).
    if (box && ownTopRef.current !== null && box.scrollTop < ownTopRef.current) {
      setFollow(false);
      return;
    }
    endRef.current?.scrollIntoView?.({ block: 'end' });
    ownTopRef.current = box?.scrollTop ?? null;
  }, changes);
  return { messagesRef, following, setFollow, onMessagesScroll, onMessagesWheel, jumpToLatest };
}
