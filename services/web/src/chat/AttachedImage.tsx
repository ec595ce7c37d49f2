import { useEffect, useState } from 'react';
import { api, type Attachment } from '../api/index.js';

/**
 * An image attached to a message. The access token travels in a header, so the bytes are fetched
 * through the API client and shown from an object URL (revoked when the image goes away).
 */
export function AttachedImage({
  conversationId,
  attachment,
}: {
  conversationId: string;
  attachment: Attachment;
}) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    let objectUrl: string | null = null;
    api.chat.attachmentBlob(conversationId, attachment.id).then(
      (blob) => {
        if (!live) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      () => {
        if (live) setFailed(true);
      },
    );
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [conversationId, attachment.id]);
  if (failed) return <span className="muted">Image {attachment.name} could not be loaded.</span>;
  return url ? (
    <img src={url} alt={attachment.name} />
  ) : (
    <span className="muted">Loading {attachment.name}…</span>
  );
}
