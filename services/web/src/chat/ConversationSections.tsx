import { type DragEvent, type ReactNode, useState } from 'react';
import type { Folder } from '@corral/contracts';
import type { Conversation } from '../api/index.js';
import { groupByDate } from './date-groups.js';
import type { FoldersState } from './useFolders.js';
import './organize.css';

/** What a dragged sidebar row carries: the conversation's id. */
export const CONVERSATION_DRAG_TYPE = 'application/x-corral-conversation';

/** Drop handlers for a target that files the dragged conversation in `folderId` (null: no folder). */
function dropTarget(
  folderId: string | null,
  onDrop: (conversationId: string, folderId: string | null) => void,
  setOver: (over: boolean) => void,
) {
  const accepts = (e: DragEvent) => e.dataTransfer.types.includes(CONVERSATION_DRAG_TYPE);
  return {
    onDragOver: (e: DragEvent) => {
      if (!accepts(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'move';
      setOver(true);
    },
    onDragLeave: () => setOver(false),
    onDrop: (e: DragEvent) => {
      setOver(false);
      const id = e.dataTransfer.getData(CONVERSATION_DRAG_TYPE);
      if (!id) return;
      e.preventDefault();
      onDrop(id, folderId);
    },
  };
}

interface Props {
  /** The conversations not pinned (pinned ones have their own section above). */
  items: Conversation[];
  folders: FoldersState;
  renderRow: (conversation: Conversation) => ReactNode;
  now?: Date;
}

/**
 * The sidebar's folders (each a drop target, with its conversations), then the conversations in no
 * folder, grouped by date: Today, Yesterday, Previous 7 days, Previous 30 days, then by month.
 */
export function ConversationSections({ items, folders, renderRow, now = new Date() }: Props) {
  const [creating, setCreating] = useState(false);
  const [unfiledOver, setUnfiledOver] = useState(false);
  const byId = new Map(items.map((c) => [c.id, c]));
  const known = new Set(folders.items.map((f) => f.id));
  const filed = (folderId: string) => items.filter((c) => c.folderId === folderId);
  const unfiled = items.filter((c) => !c.folderId || !known.has(c.folderId));
  const drop = (conversationId: string, folderId: string | null) => {
    const conversation = byId.get(conversationId);
    if (conversation) void folders.move(conversation, folderId);
  };

  return (
    <>
      <li className="sidebar__heading sidebar__folders-heading">
        <span>Folders</span>
        <button
          type="button"
          className="btn btn--small btn--ghost"
          aria-expanded={creating}
          onClick={() => setCreating((c) => !c)}
        >
          + New folder
        </button>
      </li>
      {creating && (
        <li className="sidebar__item">
          <NameForm
            label="Folder name"
            initial=""
            onCancel={() => setCreating(false)}
            onSave={(name) => {
              setCreating(false);
              void folders.create(name);
            }}
          />
        </li>
      )}
      {folders.items.map((folder) => (
        <FolderGroup key={folder.id} folder={folder} folders={folders} onDrop={drop}>
          {filed(folder.id).map(renderRow)}
        </FolderGroup>
      ))}
      {groupByDate(unfiled, now).map((group) => (
        <DateGroupHeading
          key={group.label}
          label={group.label}
          onDrop={drop}
          over={unfiledOver}
          setOver={setUnfiledOver}
        >
          {group.items.map(renderRow)}
        </DateGroupHeading>
      ))}
    </>
  );
}

function DateGroupHeading({
  label,
  children,
  onDrop,
  over,
  setOver,
}: {
  label: string;
  children: ReactNode;
  onDrop: (conversationId: string, folderId: string | null) => void;
  over: boolean;
  setOver: (over: boolean) => void;
}) {
  return (
    <>
      <li
        className={`sidebar__heading${over ? ' sidebar__drop--over' : ''}`}
        data-date-group={label}
        {...dropTarget(null, onDrop, setOver)}
      >
        {label}
      </li>
      {children}
    </>
  );
}

function FolderGroup({
  folder,
  folders,
  onDrop,
  children,
}: {
  folder: Folder;
  folders: FoldersState;
  onDrop: (conversationId: string, folderId: string | null) => void;
  children: ReactNode;
}) {
  const [renaming, setRenaming] = useState(false);
  const [over, setOver] = useState(false);
  return (
    <li
      className={`sidebar__folder${over ? ' sidebar__drop--over' : ''}`}
      data-folder-id={folder.id}
      {...dropTarget(folder.id, onDrop, setOver)}
    >
      {renaming ? (
        <NameForm
          label="New folder name"
          initial={folder.name}
          onCancel={() => setRenaming(false)}
          onSave={(name) => {
            setRenaming(false);
            void folders.rename(folder, name);
          }}
        />
      ) : (
        <div className="sidebar__folder-head">
          <span className="sidebar__folder-name">{folder.name}</span>
          <button
            type="button"
            className="btn btn--small btn--ghost"
            aria-label={`Rename folder ${folder.name}`}
            onClick={() => setRenaming(true)}
          >
            Rename
          </button>
          <button
            type="button"
            className="btn btn--small btn--ghost"
            aria-label={`Delete folder ${folder.name}`}
            onClick={() => void folders.remove(folder)}
          >
            Delete
          </button>
        </div>
      )}
      <ul className="sidebar__list" aria-label={`Folder ${folder.name}`}>
        {children}
      </ul>
    </li>
  );
}

export function NameForm({
  label,
  initial,
  onSave,
  onCancel,
}: {
  label: string;
  initial: string;
  onSave: (name: string) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(initial);
  return (
    <form
      className="sidebar__rename"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim()) onSave(name.trim());
      }}
    >
      <input
        aria-label={label}
        value={name}
        autoFocus
        maxLength={100}
        onChange={(e) => setName(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onCancel();
        }}
      />
      <button type="submit" className="btn btn--small">
        Save
      </button>
    </form>
  );
}
