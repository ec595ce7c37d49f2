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
  const setFollow = (value: boolean) => {
    followingRef.current = value;
    setFollowing(value);
  };
  const onMessagesScroll = () => {
    const box = messagesRef.current;
    if (!box) return;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight <= BOTTOM_SLACK_PX;
    if (atBottom !== followingRef.current) setFollow(atBottom);
  };
  const jumpToLatest = () => {
    setFollow(true);
    endRef.current?.scrollIntoView?.({ block: 'end' });
  };
  useEffect(() => {
    setFollow(true);
  }, [id]);
  useEffect(() => {
    if (followingRef.current) endRef.current?.scrollIntoView?.({ block: 'end' });
  }, changes);
  return { messagesRef, following, setFollow, onMessagesScroll, jumpToLatest };
}
