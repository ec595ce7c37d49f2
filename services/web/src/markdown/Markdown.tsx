import type { ReactElement } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import rehypeKatex from 'rehype-katex';
import remarkGfm from 'remark-gfm';
import remarkMath from 'remark-math';
import { CodeBlock } from './CodeBlock.js';
import { replyHeadings } from './headings.js';
import remarkDollarPrices from './dollar-math.js';
import { safeUrl } from './safe-url.js';

// No rehype-raw: HTML in model output stays text. Links are filtered by safeUrl; images are
// shown as links (no remote loads, no tracking pixels).
const components: Components = {
  ...replyHeadings,
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

// Math: `$…$` inline (not prices; see dollar-math.ts) and `$$…$$` display, typeset by KaTeX as
// MathML, which the browser lays out itself. Not KaTeX's HTML output: rehype-katex parses that
// HTML in the page, and its inline `style` attributes would each be a violation of the CSP's
// `style-src 'self'`. KaTeX's defaults stay: `trust: false` (no \href, \includegraphics,
// \htmlClass…), and a bad formula is shown as its source in red rather than throwing.
const remarkPlugins = [remarkGfm, remarkMath, remarkDollarPrices];
const rehypePlugins = [[rehypeKatex, { output: 'mathml', strict: 'ignore' }]] as const;
// Code is highlighted by CodeBlock, each language's grammar fetched when first needed (highlight.ts).

/** Model output as Markdown (GFM, highlighted code, KaTeX math), with no way to run script. */
export default function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={remarkPlugins}
        rehypePlugins={rehypePlugins as never}
        urlTransform={safeUrl}
        components={components}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
