import { NavLink, Navigate, Route, Routes } from 'react-router';
import { ApiKeysPanel } from './ApiKeysPanel.js';
import { AssistantsPanel } from './AssistantsPanel.js';
import { PromptsPanel } from './PromptsPanel.js';
import { SharesPanel } from './SharesPanel.js';
import { ExportImportPanel } from './ExportImportPanel.js';
import { PasswordPanel } from './PasswordPanel.js';
import { UsagePanel } from './UsagePanel.js';

export default function SettingsPage() {
  return (
    <section className="page">
      <h1>Settings</h1>
      <nav className="tabs" aria-label="Settings sections">
        <NavLink to="/settings/keys">API keys</NavLink>
        <NavLink to="/settings/usage">Usage</NavLink>
        <NavLink to="/settings/prompts">Prompts</NavLink>
        <NavLink to="/settings/assistants">Assistants</NavLink>
        <NavLink to="/settings/shares">Shared links</NavLink>
        <NavLink to="/settings/data">Export / import</NavLink>
        <NavLink to="/settings/password">Password</NavLink>
      </nav>
      <Routes>
        <Route index element={<Navigate to="keys" replace />} />
        <Route path="keys" element={<ApiKeysPanel />} />
        <Route path="usage" element={<UsagePanel />} />
        <Route path="prompts" element={<PromptsPanel />} />
        <Route path="assistants" element={<AssistantsPanel />} />
        <Route path="shares" element={<SharesPanel />} />
        <Route path="data" element={<ExportImportPanel />} />
        <Route path="password" element={<PasswordPanel />} />
      </Routes>
    </section>
  );
}
