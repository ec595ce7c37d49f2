import { type ReactElement, useEffect, useState } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
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
// KaTeX is a chunk of its own (about half of this one), fetched the first time a reply has a `$`:
// until it is in, math shows as its source in a code span.
const remarkPlugins = [remarkGfm, remarkMath, remarkDollarPrices];
type RehypePlugins = ReadonlyArray<readonly [unknown, unknown]>;
let mathPlugins: RehypePlugins | undefined;
let loadingMath: Promise<RehypePlugins> | undefined;
const loadMath = () =>
  (loadingMath ??= import('rehype-katex').then(
    ({ default: rehypeKatex }) => (mathPlugins = [[rehypeKatex, { output: 'mathml', strict: 'ignore' }]]),
    // Offline or a stale deployment: math stays as its source, and the next reply tries again.
    () => {
      loadingMath = undefined;
      return [];
    },
  ));

/** The rehype plugins for `text`: KaTeX once loaded, when the text could hold math. */
function useMathPlugins(text: string): RehypePlugins {
  const needed = text.includes('$');
  const [loaded, setLoaded] = useState(mathPlugins);
  useEffect(() => {
    if (!needed || loaded) return undefined;
    let live = true;
    void loadMath().then((plugins) => {
      if (live) setLoaded(plugins);
    });
    return () => {
      live = false;
    };
  }, [needed, loaded]);
  return needed ? (loaded ?? []) : [];
}
// Code is highlighted by CodeBlock, each language's grammar fetched when first needed (highlight.ts).

/** Model output as Markdown (GFM, highlighted code, KaTeX math), with no way to run script. */
export default function Markdown({ text }: { text: string }) {
  const rehypePlugins = useMathPlugins(text);
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
