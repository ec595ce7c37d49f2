import { NavLink, Navigate, Route, Routes } from 'react-router';
import { AuditPanel } from './AuditPanel.js';
import { GroupsPanel } from './GroupsPanel.js';
import { ModelPoolPanel } from './ModelPoolPanel.js';
import { AdminUsagePanel } from './AdminUsagePanel.js';
import { UsersPanel } from './UsersPanel.js';

export default function AdminPage() {
  return (
    <section className="page">
      <h1>Administration</h1>
      <nav className="tabs" aria-label="Administration sections">
        <NavLink to="/admin/users">Users</NavLink>
        <NavLink to="/admin/groups">Groups</NavLink>
        <NavLink to="/admin/models">Model pool</NavLink>
        <NavLink to="/admin/usage">Usage</NavLink>
        <NavLink to="/admin/audit">Audit log</NavLink>
      </nav>
      <Routes>
        <Route index element={<Navigate to="users" replace />} />
        <Route path="users" element={<UsersPanel />} />
        <Route path="groups" element={<GroupsPanel />} />
        <Route path="models" element={<ModelPoolPanel />} />
        <Route path="usage" element={<AdminUsagePanel />} />
        <Route path="audit" element={<AuditPanel />} />
      </Routes>
    </section>
  );
}
