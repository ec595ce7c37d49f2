import { type ReactNode, createContext, useContext, useEffect, useMemo, useState } from 'react';
import { api, http, type User } from '../api/index.js';
import { clearDrafts } from '../chat/drafts.js';
import { syncSessionAcrossTabs } from './session-sync.js';

type AuthStatus = 'loading' | 'signed-in' | 'signed-out';

interface AuthState {
  status: AuthStatus;
  user: User | null;
  /** The session ended on its own (refresh token expired or revoked), not by signing out. */
  expired: boolean;
  /** The session could not be restored because the server did not answer. */
  restoreError: unknown;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>({
    status: 'loading',
    user: null,
    expired: false,
    restoreError: undefined,
  });

  useEffect(() => {
    const off = http.onSessionChange(({ user, reason }) => {
      // Signing out wipes what was being typed; an expired session keeps it for after sign-in.
      if (reason === 'signed-out') clearDrafts();
      setState({
        status: user ? 'signed-in' : 'signed-out',
        user,
        expired: reason === 'expired',
        restoreError: undefined,
      });
    });
    const offSync = syncSessionAcrossTabs(http);
    api.auth.restore().then(
      (restored) => {
        if (!restored) setState((s) => ({ ...s, status: 'signed-out', user: null, expired: false }));
      },
      (error: unknown) => setState({ status: 'signed-out', user: null, expired: false, restoreError: error }),
    );
    return () => {
      off();
      offSync();
    };
  }, []);

  return <AuthContext.Provider value={state}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState & { isAdmin: boolean } {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth outside AuthProvider');
  return useMemo(() => ({ ...state, isAdmin: state.user?.role === 'admin' }), [state]);
}
