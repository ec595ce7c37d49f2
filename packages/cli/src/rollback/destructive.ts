// Expand/contract: a migration must not break the release before it (which a rollback redeploys
// against the already-migrated schema). Statements that would are refused unless the comment just
// above them carries the marker `corral:contract <why this is safe now>`.
export const CONTRACT_MARKER = 'corral:contract';

export interface SqlStatement {
  /** The statement without comments, whitespace collapsed. */
  text: string;
  /** The comment lines directly above it (and inside it). */
  comments: string[];
  line: number;
}

/** Splits SQL into statements, keeping comments apart; understands quotes, dollar quotes and comments. */
export function splitStatements(sql: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let text = '';
  let comments: string[] = [];
  let line = 1;
  let startLine = 1;
  let i = 0;
  const flush = () => {
    const collapsed = text.replace(/\s+/g, ' ').trim();
    if (collapsed) statements.push({ text: collapsed, comments, line: startLine });
    text = '';
    comments = [];
  };
  while (i < sql.length) {
    const rest = sql.slice(i);
    if (rest.startsWith('--')) {
      const end = sql.indexOf('\n', i);
      comments.push(sql.slice(i + 2, end === -1 ? sql.length : end).trim());
      i = end === -1 ? sql.length : end;
      continue;
    }
    if (rest.startsWith('/*')) {
      const end = sql.indexOf('*/', i + 2);
      const body = sql.slice(i + 2, end === -1 ? sql.length : end);
      comments.push(body.trim());
      line += body.split('\n').length - 1;
      i = end === -1 ? sql.length : end + 2;
      continue;
    }
    const dollar = /^\$[A-Za-z_]*\$/.exec(rest);
    const quote = rest[0] === "'" || rest[0] === '"' ? rest[0] : undefined;
    if (dollar || quote) {
      const delimiter = dollar ? dollar[0] : quote!;
      const end = sql.indexOf(delimiter, i + delimiter.length);
      const chunk = sql.slice(i, end === -1 ? sql.length : end + delimiter.length);
      if (!text.trim()) startLine = line;
      // A quoted body stays opaque: only its length matters to the checks, not its words.
      text += dollar ? ' $body$ ' : chunk;
      line += chunk.split('\n').length - 1;
      i += chunk.length;
      continue;
    }
    const char = sql[i]!;
    if (char === ';') {
      flush();
    } else {
      if (char === '\n') line += 1;
      else if (!text.trim() && !/\s/.test(char)) startLine = line;
      text += char;
    }
    i += 1;
  }
  flush();
  return statements;
}

const STATEMENT_RULES: { pattern: RegExp; why: string }[] = [
  {
    pattern: /^DROP (TABLE|SCHEMA|TYPE|VIEW|MATERIALIZED VIEW)\b/i,
    why: 'drops an object the previous release uses',
  },
  {
    pattern: /^ALTER (TABLE|TYPE|SCHEMA|VIEW)\b.*\bRENAME\b(?! CONSTRAINT)/i,
    why: 'renames something the previous release names',
  },
  { pattern: /^TRUNCATE\b/i, why: 'deletes every row of a table' },
  { pattern: /^DELETE FROM \S+$/i, why: 'deletes every row of a table' },
  {
    pattern: /^(?!.*\bSET DEFAULT\b).*\bSET NOT NULL\b/i,
    why: 'makes a column NOT NULL without a default (the previous release may insert without it)',
  },
];

/** Rules for one action of an ALTER TABLE (`ADD …`, `DROP …`, `ALTER COLUMN …`). */
const ACTION_RULES: { pattern: RegExp; why: string }[] = [
  {
    pattern: /^DROP (COLUMN )?(?!CONSTRAINT\b|DEFAULT\b|NOT NULL\b)/i,
    why: 'drops a column the previous release reads or writes',
  },
  {
    pattern: /^ALTER (COLUMN )?\S+ (SET DATA )?TYPE\b/i,
    why: "changes a column's type (the previous release may write values the new type refuses)",
  },
  {
    pattern: /^ADD (COLUMN )?(IF NOT EXISTS )?(?!CONSTRAINT\b)(?!.*\bDEFAULT\b).*\bNOT NULL\b/i,
    why: 'adds a NOT NULL column without a default (the previous release inserts rows without it)',
  },
];

/** The comma-separated actions of `ALTER TABLE name …` (commas inside parentheses do not split). */
function alterTableActions(text: string): string[] {
  const match = /^ALTER TABLE (IF EXISTS )?(ONLY )?("[^"]+"|\S+) (.*)$/i.exec(text);
  if (!match?.[4]) return [];
  const actions: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of match[4]) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      actions.push(current.trim());
      current = '';
    } else current += char;
  }
  actions.push(current.trim());
  return actions;
}

export interface Finding {
  line: number;
  statement: string;
  why: string;
}

/** Statements that would break the previous release and carry no `corral:contract` marker. */
export function destructiveStatements(sql: string): Finding[] {
  const findings: Finding[] = [];
  for (const statement of splitStatements(sql)) {
    if (statement.comments.some((comment) => comment.includes(CONTRACT_MARKER))) continue;
    const rule =
      STATEMENT_RULES.find((candidate) => candidate.pattern.test(statement.text)) ??
      alterTableActions(statement.text)
        .map((action) => ACTION_RULES.find((candidate) => candidate.pattern.test(action)))
        .find((found) => found !== undefined);
    if (rule) findings.push({ line: statement.line, statement: statement.text.slice(0, 160), why: rule.why });
  }
  return findings;
}
