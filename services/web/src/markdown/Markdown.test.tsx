// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Markdown from './Markdown.js';
import { safeUrl } from './safe-url.js';

afterEach(cleanup);

const HOSTILE_REPLY = [
  'Here you go: <img src=x onerror=alert(1)>',
  '',
  '[click](javascript:alert(1)) and [also](JaVaScRiPt:alert(2)) and [tab](java\tscript:alert(3))',
  '',
  '<script>alert(4)</script>',
  '',
  '![pixel](https://tracker.example/p.gif)',
].join('\n');

describe('Markdown renders model output inertly', () => {
  it('shows raw HTML as text and never creates img or script elements', () => {
    const alert = vi.spyOn(window, 'alert').mockImplementation(() => undefined);
    const { container } = render(<Markdown text={HOSTILE_REPLY} />);
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('[onerror]')).toBeNull();
    expect(container.textContent).toContain('<img src=x onerror=alert(1)>');
    expect(alert).not.toHaveBeenCalled();
  });

  it('neutralises javascript: links but keeps their text', () => {
    const { container } = render(<Markdown text={HOSTILE_REPLY} />);
    for (const link of container.querySelectorAll('a')) {
      expect(link.getAttribute('href') ?? '').not.toMatch(/script:/i);
    }
    expect(screen.getByText('click').closest('a')).toBeNull();
    expect(screen.getByText('also').closest('a')).toBeNull();
  });

  it('keeps ordinary links, opening them safely in a new tab', () => {
    render(<Markdown text="See [the docs](https://example.com/docs)." />);
    const link = screen.getByRole('link', { name: 'the docs' });
    expect(link.getAttribute('href')).toBe('https://example.com/docs');
    expect(link.getAttribute('rel')).toContain('noopener');
    expect(link.getAttribute('target')).toBe('_blank');
  });

  it('highlights fenced code and offers a copy button', () => {
    const { container } = render(<Markdown text={'```ts\nconst answer: number = 42;\n```'} />);
    expect(container.querySelector('code.language-ts .hljs-keyword')?.textContent).toBe('const');
    expect(screen.getByRole('button', { name: 'Copy code' })).toBeTruthy();
    expect(screen.getByText('ts')).toBeTruthy();
  });

  it('renders an unknown language as plain code', () => {
    const { container } = render(<Markdown text={'```brainfuck\n+++.\n```'} />);
    expect(container.querySelector('pre code')?.textContent).toBe('+++.\n');
  });
});

describe('safeUrl', () => {
  it.each([
    ['javascript:alert(1)', ''],
    [' javascript:alert(1)', ''],
    ['java\nscript:alert(1)', ''],
    ['data:text/html;base64,PHNjcmlwdD4=', ''],
    ['vbscript:msgbox', ''],
    ['https://example.com/a?b=c', 'https://example.com/a?b=c'],
    ['mailto:someone@example.com', 'mailto:someone@example.com'],
    ['/relative/path', '/relative/path'],
    ['#section', '#section'],
    ['page?x=a:b', 'page?x=a:b'],
  ])('%j → %j', (input, expected) => {
    expect(safeUrl(input)).toBe(expected);
  });
});
