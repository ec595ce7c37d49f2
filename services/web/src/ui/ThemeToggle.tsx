import { useState } from 'react';
import { type ThemeChoice, applyTheme, storedTheme } from './theme.js';

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: 'light', light: 'dark', dark: 'system' };
const LABEL: Record<ThemeChoice, string> = {
  system: 'Theme: system',
  light: 'Theme: light',
  dark: 'Theme: dark',
};
const ICON: Record<ThemeChoice, string> = { system: '◐', light: '☀', dark: '☾' };

export function ThemeToggle() {
  const [choice, setChoice] = useState<ThemeChoice>(storedTheme);
  const cycle = () => {
    const next = NEXT[choice];
    applyTheme(next);
    setChoice(next);
  };
  return (
    <button
      type="button"
      className="btn btn--icon"
      onClick={cycle}
      aria-label={`${LABEL[choice]} (switch to ${NEXT[choice]})`}
      title={LABEL[choice]}
    >
      <span aria-hidden="true">{ICON[choice]}</span>
    </button>
  );
}
