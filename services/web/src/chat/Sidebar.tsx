import { useEffect, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { NavLink, useNavigate, useParams } from 'react-router';
import { api, type Conversation } from '../api/index.js';
import { download } from '../ui/download.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { PinIcon } from '../ui/icons.js';
import { MenuButton } from '../ui/Menu.js';
import { useConversations } from './ConversationsContext.js';
import { CONVERSATION_DRAG_TYPE, ConversationSections } from './ConversationSections.js';
import { type FoldersState, useFolders } from './useFolders.js';

const UNDO_MS = 6000;

interface PendingDelete {
  conversation: Conversation;
  timer: number;
}

export function Sidebar({ onNavigate }: { onNavigate: () => void }) {
  const list = useConversations();
  const navigate = useNavigate();
  const { id: openId } = useParams();
  const [pending, setPending] = useState<PendingDelete | null>(null);
  const [actionError, setActionError] = useState<unknown>();
  const folders = useFolders(list);
  const sentinel = useRef<HTMLLIElement>(null);
  const loadMore = useRef(list.loadMore);
  loadMore.current = list.loadMore;

  // Infinite scroll: the last row coming into view loads the next page.
  useEffect(() => {
    const node = sentinel.current;
    if (!node || typeof IntersectionObserver === 'undefined') return undefined;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadMore.current();
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, [list.nextCursor]);

  const patch = async (
    conversation: Conversation,
    change: Parameters<typeof api.chat.updateConversation>[1],
  ) => {
    setActionError(undefined);
    try {
      list.upsert(await api.chat.updateConversation(conversation.id, change));
    } catch (error) {
      setActionError(error);
    }
  };

  const finishDelete = async (conversation: Conversation) => {
    try {
      await api.chat.deleteConversation(conversation.id);
    } catch (error) {
      list.upsert(conversation);
      setActionError(error);
    }
  };

  const startDelete = (conversation: Conversation) => {
    if (pending) {
      window.clearTimeout(pending.timer);
      void finishDelete(pending.conversation);
    }
    list.remove(conversation.id);
    if (openId === conversation.id) navigate('/');
    const timer = window.setTimeout(() => {
      setPending(null);
      void finishDelete(conversation);
    }, UNDO_MS);
    setPending({ conversation, timer });
  };

  const exportOne = async (conversation: Conversation) => {
    setActionError(undefined);
    try {
      download(
        await api.chat.exportConversation(conversation.id),
        `corral-conversation-${conversation.id}.json`,
      );
    } catch (error) {
      setActionError(error);
    }
  };

  const undoDelete = () => {
    if (!pending) return;
    window.clearTimeout(pending.timer);
    list.upsert(pending.conversation);
    setPending(null);
  };

  const pinned = list.items.filter((c) => c.pinned);
  const recent = list.items.filter((c) => !c.pinned);

  /** One row of the list, pinned or in a section. */
  const renderRow = (c: Conversation) => (
    <ConversationRow
      key={c.id}
      conversation={c}
      onPatch={patch}
      onDelete={startDelete}
      onExport={(c) => void exportOne(c)}
      onNavigate={onNavigate}
      replying={list.replying.has(c.id)}
      folders={folders}
    />
  );

  return (
    <nav className="sidebar" aria-label="Conversations">
      <button
        type="button"
        className="btn btn--primary sidebar__new"
        onClick={() => {
          navigate('/');
          onNavigate();
        }}
      >
        + New chat
      </button>
      <input
        type="search"
        className="sidebar__search"
        placeholder="Search conversations"
        aria-label="Search conversations"
        value={list.query}
        onChange={(e) => list.setQuery(e.target.value)}
      />
      <label className="sidebar__toggle">
        <input
          type="checkbox"
          checked={list.showArchived}
          onChange={(e) => list.setShowArchived(e.target.checked)}
        />
        Show archived
      </label>
      {actionError !== undefined && (
        <ErrorNotice error={actionError} onDismiss={() => setActionError(undefined)} />
      )}
      {folders.error !== undefined && <ErrorNotice error={folders.error} onDismiss={folders.clearError} />}
      {list.error !== undefined && <ErrorNotice error={list.error} onRetry={list.reload} />}
      <ul className="sidebar__list">
        {pinned.length > 0 && <li className="sidebar__heading">Pinned</li>}
        {pinned.map(renderRow)}
        <ConversationSections items={recent} folders={folders} renderRow={renderRow} />
        {!list.loading && list.items.length === 0 && list.error === undefined && (
          <li className="sidebar__empty">{list.query ? 'No matches.' : 'No conversations yet.'}</li>
        )}
        <li ref={sentinel} className="sidebar__sentinel" aria-hidden={!list.nextCursor}>
          {list.loading ? (
            'Loading…'
          ) : list.nextCursor ? (
            <button type="button" className="btn btn--ghost" onClick={list.loadMore}>
              Load more
            </button>
          ) : null}
        </li>
      </ul>
      {/* In the page, not the drawer: on a phone the closed drawer would take it off-screen. */}
      {pending &&
        createPortal(
          <div className="toast" role="status">
            <span>Deleted “{pending.conversation.title || 'Untitled'}”.</span>
            <button type="button" className="btn btn--small" onClick={undoDelete}>
              Undo
            </button>
          </div>,
          document.body,
        )}
    </nav>
  );
}

interface RowProps {
  conversation: Conversation;
  onPatch: (
    c: Conversation,
    change: { title?: string; pinned?: boolean; archived?: boolean },
  ) => Promise<void>;
  onDelete: (c: Conversation) => void;
  onExport: (c: Conversation) => void;
  onNavigate: () => void;
  /** Its reply is still being written. */
  replying: boolean;
  folders: FoldersState;
}

function ConversationRow({
  conversation,
  onPatch,
  onDelete,
  onExport,
  onNavigate,
  replying,
  folders,
}: RowProps) {
  const [renaming, setRenaming] = useState(false);
  const [moving, setMoving] = useState(false);
  const [title, setTitle] = useState(conversation.title);
  const label = conversation.title || 'Untitled';

  if (renaming) {
    return (
      <li className="sidebar__item">
        <form
          className="sidebar__rename"
          onSubmit={(e) => {
            e.preventDefault();
            setRenaming(false);
            void onPatch(conversation, { title: title.trim() });
          }}
        >
          <input
            aria-label="New title"
            value={title}
            autoFocus
            maxLength={200}
            onChange={(e) => setTitle(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setRenaming(false);
            }}
          />
          <button type="submit" className="btn btn--small">
            Save
          </button>
        </form>
      </li>
    );
  }

  if (moving)
    return <MoveToFolder conversation={conversation} folders={folders} onDone={() => setMoving(false)} />;

  return (
    <li
      className="sidebar__item"
      draggable
      onDragStart={(e) => {
        e.dataTransfer.setData(CONVERSATION_DRAG_TYPE, conversation.id);
        e.dataTransfer.effectAllowed = 'move';
      }}
    >
      <NavLink to={`/c/${conversation.id}`} className="sidebar__link" onClick={onNavigate}>
        {conversation.pinned && (
          <>
            <PinIcon /> <span className="visually-hidden">Pinned: </span>
          </>
        )}
        {label}
        {conversation.archived && <span className="badge sidebar__archived">archived</span>}
        {replying && (
          <span className="sidebar__replying" title="Reply being written" data-replying="">
            <span className="visually-hidden"> (reply being written)</span>
          </span>
        )}
      </NavLink>
      <MenuButton
        label={`Actions for ${label}`}
        items={[
          {
            label: conversation.pinned ? 'Unpin' : 'Pin',
            onSelect: () => void onPatch(conversation, { pinned: !conversation.pinned }),
          },
          {
            label: 'Rename',
            onSelect: () => {
              setTitle(conversation.title);
              setRenaming(true);
            },
          },
          {
            label: conversation.archived ? 'Unarchive' : 'Archive',
            onSelect: () => void onPatch(conversation, { archived: !conversation.archived }),
          },
          { label: 'Move to folder…', onSelect: () => setMoving(true) },
          { label: 'Export', onSelect: () => onExport(conversation) },
          { label: 'Delete', onSelect: () => onDelete(conversation), danger: true },
        ]}
      >
        ⋯
      </MenuButton>
    </li>
  );
}

/** The keyboard (and menu) way to file a conversation: pick a folder, or none. */
function MoveToFolder({
  conversation,
  folders,
  onDone,
}: {
  conversation: Conversation;
  folders: FoldersState;
  onDone: () => void;
}) {
  const [target, setTarget] = useState(conversation.folderId ?? '');
  return (
    <li className="sidebar__item">
      <form
        className="sidebar__rename"
        onSubmit={(e) => {
          e.preventDefault();
          onDone();
          void folders.move(conversation, target || null);
        }}
      >
        <select
          aria-label={`Folder for ${conversation.title || 'Untitled'}`}
          value={target}
          autoFocus
          onChange={(e) => setTarget(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') onDone();
          }}
        >
          <option value="">No folder</option>
          {folders.items.map((f) => (
            <option key={f.id} value={f.id}>
              {f.name}
            </option>
          ))}
        </select>
        <button type="submit" className="btn btn--small">
          Move
        </button>
      </form>
    </li>
  );
}
