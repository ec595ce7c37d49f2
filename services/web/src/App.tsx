import { Suspense, lazy } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { useAuth } from './auth/AuthContext.js';
import { returnPath } from './auth/return-path.js';
import { PendingPage } from './auth/PendingPage.js';
import { RegisterPage } from './auth/RegisterPage.js';
import { SignInErrorPage } from './auth/SignInErrorPage.js';
import { SignInPage } from './auth/SignInPage.js';
import { ChatView } from './chat/ChatView.js';
import { Layout } from './Layout.js';

// Settings and admin are separate chunks: most visits never open them.
const SettingsPage = lazy(() => import('./settings/SettingsPage.js'));
const AdminPage = lazy(() => import('./admin/AdminPage.js'));
const SharedPage = lazy(() => import('./share/SharedPage.js'));

const loading = <p className="muted page-loading">Loading…</p>;

export function App() {
  const { status, isAdmin } = useAuth();
  if (status === 'loading') {
    return (
      <main className="auth-page" aria-busy="true">
        <p className="muted">Loading Corral…</p>
      </main>
    );
  }
  if (status === 'signed-out') {
    return (
      <Routes>
        <Route path="/login" element={<SignInPage />} />
        <Route path="/login/error" element={<SignInErrorPage />} />
        <Route path="/register" element={<RegisterPage />} />
        <Route path="/pending" element={<PendingPage />} />
        <Route path="*" element={<ToSignIn />} />
      </Routes>
    );
  }
  return (
    <Routes>
      <Route path="/login/error" element={<SignInErrorPage />} />
      <Route element={<Layout />}>
        <Route index element={<ChatView />} />
        <Route path="c/:id" element={<ChatView />} />
        <Route
          path="share/:token"
          element={
            <Suspense fallback={loading}>
              <SharedPage />
            </Suspense>
          }
        />
        <Route
          path="settings/*"
          element={
            <Suspense fallback={loading}>
              <SettingsPage />
            </Suspense>
          }
        />
        <Route
          path="admin/*"
          element={
            isAdmin ? (
              <Suspense fallback={loading}>
                <AdminPage />
              </Suspense>
            ) : (
              <Navigate to="/" replace />
            )
          }
        />
        <Route path="login" element={<BackFromSignIn />} />
        <Route path="*" element={<Navigate to="/" replace />} />
      </Route>
    </Routes>
  );
}

/** Signed out (or the session expired) on some page: the sign-in page, remembering where the user was. */
function ToSignIn() {
  const location = useLocation();
  return <Navigate to="/login" replace state={{ from: `${location.pathname}${location.search}` }} />;
}

/** Signed in (here or in another tab) on the sign-in page: back to where the user was. */
function BackFromSignIn() {
  return <Navigate to={returnPath(useLocation().state)} replace />;
}
