// @vitest-environment jsdom
import { cleanup, render, screen, waitFor } from '@testing-library/react';
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

  it('highlights fenced code once its grammar has loaded, and offers a copy button', async () => {
    const { container } = render(<Markdown text={'```ts\nconst answer: number = 42;\n```'} />);
    // Plain text first: the grammar is a chunk of its own, fetched on demand.
    expect(container.querySelector('pre code')?.textContent).toBe('const answer: number = 42;\n');
    await waitFor(() =>
      expect(container.querySelector('code.language-ts .hljs-keyword')?.textContent).toBe('const'),
    );
    expect(container.querySelector('pre code')?.textContent).toBe('const answer: number = 42;\n');
    expect(screen.getByRole('button', { name: 'Copy code' })).toBeTruthy();
    expect(screen.getByText('ts')).toBeTruthy();
  });

  it('renders an unknown language as plain code', () => {
    const { container } = render(<Markdown text={'```brainfuck\n+++.\n```'} />);
    expect(container.querySelector('pre code')?.textContent).toBe('+++.\n');
  });
});

describe('Markdown typesets math with KaTeX', () => {
  it('renders inline $…$ and display $$…$$ as KaTeX MathML (KaTeX fetched on first use)', async () => {
    const { container } = render(
      <Markdown text={'The square $x^2$ grows.\n\n$$\n\\int_0^1 x\\,dx\n$$\n\nAnd $$a+b$$ inline.'} />,
    );
    await waitFor(() => expect(container.querySelectorAll('p .katex')).toHaveLength(2));
    const inline = container.querySelectorAll('p .katex');
    expect(inline[0]!.querySelector('math annotation')?.textContent).toBe('x^2');
    expect(inline[0]!.querySelector('math msup')).not.toBeNull();
    const display = container.querySelector('.markdown > .katex');
    expect(display?.querySelector('math')?.getAttribute('display')).toBe('block');
    expect(display?.querySelector('math annotation')?.textContent).toBe('\\int_0^1 x\\,dx');
    expect(display?.querySelector('math mo')?.textContent).toBe('∫');
    expect(container.textContent).not.toContain('$');
  });

  it('leaves prices as text', async () => {
    const { container } = render(
      <Markdown text={'It costs $5 and $10, plus $x^2$ in tax; $3$4 and $ 7 $ are odd.\n\nNo $ here.'} />,
    );
    await waitFor(() => expect(container.querySelectorAll('.katex')).toHaveLength(1));
    expect(container.querySelector('.katex annotation')?.textContent).toBe('x^2');
    expect(container.textContent).toContain('It costs $5 and $10, plus ');
    expect(container.textContent).toContain(' in tax; $3$4 and $ 7 $ are odd.');
    expect(container.textContent).toContain('No $ here.');
  });

  it('shows a bad formula as its source and keeps KaTeX from making links or raw HTML', async () => {
    const { container } = render(
      <Markdown text={'$\\frac{1}{$ and $\\href{javascript:alert(1)}{x}$ and $\\htmlClass{evil}{y}$'} />,
    );
    await waitFor(() => expect(container.querySelectorAll('.katex, .katex-error').length).toBeGreaterThan(0));
    expect(container.querySelector('a')).toBeNull();
    expect(container.querySelector('.evil')).toBeNull();
    expect(container.querySelector('[href]')).toBeNull();
    expect(container.textContent).toContain('\\frac{1}{');
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
