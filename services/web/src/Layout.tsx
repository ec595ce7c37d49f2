import { useCallback, useState } from 'react';
import { Link, Outlet } from 'react-router';
import { useAuth } from './auth/AuthContext.js';
import { signOut } from './auth/useSignInOptions.js';
import { ConversationsProvider } from './chat/ConversationsContext.js';
import { KeyboardShortcuts } from './chat/KeyboardShortcuts.js';
import { Sidebar } from './chat/Sidebar.js';
import { InferenceNotice } from './ui/InferenceNotice.js';
import { ThemeToggle } from './ui/ThemeToggle.js';

export function Layout() {
  const { user, isAdmin } = useAuth();
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const showConversations = useCallback(() => setSidebarOpen(true), []);
  return (
    <ConversationsProvider>
      <div className={`app ${sidebarOpen ? 'app--sidebar-open' : ''}`}>
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <div className="app__top">
          <header className="topbar">
            <button
              type="button"
              className="btn btn--icon btn--ghost topbar__menu"
              aria-label={sidebarOpen ? 'Hide conversations' : 'Show conversations'}
              aria-expanded={sidebarOpen}
              onClick={() => setSidebarOpen((o) => !o)}
            >
              ☰
            </button>
            <Link to="/" className="topbar__brand">
              Corral
            </Link>
            <span className="topbar__spacer" />
            <Link to="/settings" className="btn btn--ghost">
              Settings
            </Link>
            {isAdmin && (
              <Link to="/admin" className="btn btn--ghost">
                Admin
              </Link>
            )}
            <ThemeToggle />
            <button
              type="button"
              className="btn btn--ghost"
              onClick={() => void signOut()}
              title={user?.email}
            >
              Sign out
            </button>
          </header>
          <InferenceNotice />
          {user?.mustChangePassword && (
            <p className="notice" role="note">
              {/* One flex item: the notice spreads its children apart, and this is one sentence. */}
              <span>
                You signed in with a generated password. <Link to="/settings/password">Change it now</Link>.
              </span>
            </p>
          )}
        </div>
        <Sidebar onNavigate={() => setSidebarOpen(false)} />
        <button
          type="button"
          className="scrim"
          aria-label="Close conversations"
          tabIndex={-1}
          onClick={() => setSidebarOpen(false)}
        />
        <main className="main" id="main" tabIndex={-1}>
          <Outlet />
        </main>
        <KeyboardShortcuts onShowConversations={showConversations} />
      </div>
    </ConversationsProvider>
  );
}
