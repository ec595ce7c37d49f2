import { toJsxRuntime } from 'hast-util-to-jsx-runtime';
import { Children, type ReactNode, useRef, useState } from 'react';
import { Fragment, jsx, jsxs } from 'react/jsx-runtime';
import { useHighlighted } from './highlight.js';

/** The block's source: react-markdown hands it over as text. */
const textOf = (children: ReactNode): string =>
  Children.toArray(children)
    .map((child) => (typeof child === 'string' || typeof child === 'number' ? String(child) : ''))
    .join('');

/** A fenced code block with its language and a copy button. */
export function CodeBlock({ language, children }: { language: string | undefined; children: ReactNode }) {
  const codeRef = useRef<HTMLElement>(null);
  const [copied, setCopied] = useState(false);
  const highlighted = useHighlighted(language, textOf(children));
  const copy = async () => {
    const text = codeRef.current?.textContent ?? '';
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      window.setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div className="code-block">
      <div className="code-block__bar">
        <span className="code-block__lang">{language ?? 'text'}</span>
        <button type="button" className="btn btn--small" onClick={() => void copy()} aria-label="Copy code">
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre>
        <code ref={codeRef} className={language ? `hljs language-${language}` : 'hljs'}>
          {highlighted ? toJsxRuntime(highlighted, { Fragment, jsx, jsxs }) : children}
        </code>
      </pre>
    </div>
  );
}
