import type { Components } from 'react-markdown';

/**
 * A reply's headings sit under the page's own: the chat page's h1 is the conversation's title,
 * so a reply's "# Title" is an h2 and everything below moves down a level (h6 stays h6).
 */
export const replyHeadings: Components = {
  h1: ({ children }) => <h2>{children}</h2>,
  h2: ({ children }) => <h3>{children}</h3>,
  h3: ({ children }) => <h4>{children}</h4>,
  h4: ({ children }) => <h5>{children}</h5>,
  h5: ({ children }) => <h6>{children}</h6>,
  h6: ({ children }) => <h6>{children}</h6>,
};
