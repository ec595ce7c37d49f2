import type { ReactElement } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import remarkGfm from 'remark-gfm';
import { CodeBlock } from './CodeBlock.js';
import { safeUrl } from './safe-url.js';

// No rehype-raw: HTML in model output stays text. Links are filtered by safeUrl; images are
// shown as links (no remote loads, no tracking pixels).
const components: Components = {
  a: ({ href, children }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer nofollow">
        {children}
      </a>
    ) : (
      <span className="md-dead-link">{children}</span>
    ),
  img: ({ src, alt }) => {
    const label = `image: ${alt || 'untitled'}`;
    return typeof src === 'string' && src ? (
      <a href={src} target="_blank" rel="noopener noreferrer nofollow">
        [{label}]
      </a>
    ) : (
      <span>[{label}]</span>
    );
  },
  pre: ({ children }) => {
    const code = children as ReactElement<{ className?: string; children?: ReactElement }>;
    const language = /language-([\w+-]+)/.exec(code?.props?.className ?? '')?.[1];
    return <CodeBlock language={language}>{code?.props?.children}</CodeBlock>;
  },
};

const rehypePlugins = [[rehypeHighlight, { detect: false, plainText: ['text', 'txt', 'plain'] }]] as const;

/** Model output as Markdown (GFM, highlighted code), with no way to run script. */
export default function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={rehypePlugins as never}
        urlTransform={safeUrl}
        components={components}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
