import type { UsageRow } from '../api/index.js';

const PALETTE = ['#2f6f5e', '#c2410c', '#4f46e5', '#0e7490', '#a21caf', '#65a30d', '#b45309', '#be123c'];

export interface ChartDay {
  day: string;
  byModel: Map<string, number>;
  total: number;
}

/** Rows (day × model) into one stacked bar per day, oldest first, with every day of the range present. */
export function toChartDays(rows: readonly UsageRow[], days: number, today = new Date()): ChartDay[] {
  const result: ChartDay[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const date = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i));
    result.push({ day: date.toISOString().slice(0, 10), byModel: new Map(), total: 0 });
  }
  const index = new Map(result.map((d) => [d.day, d]));
  for (const row of rows) {
    const day = index.get(row.day.slice(0, 10));
    if (!day) continue;
    const tokens = row.promptTokens + row.completionTokens;
    day.byModel.set(row.model, (day.byModel.get(row.model) ?? 0) + tokens);
    day.total += tokens;
  }
  return result;
}

const compact = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);

/** Tokens per day, stacked by model: a small hand-drawn SVG, no chart library. */
export function UsageChart({ rows, days = 30 }: { rows: readonly UsageRow[]; days?: number }) {
  const data = toChartDays(rows, days);
  const models = [...new Set(rows.map((r) => r.model))].sort();
  const color = (model: string) => PALETTE[models.indexOf(model) % PALETTE.length] ?? PALETTE[0];
  const max = Math.max(1, ...data.map((d) => d.total));
  const width = 640;
  const height = 200;
  const pad = { left: 44, right: 8, top: 8, bottom: 24 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const slot = plotW / data.length;
  const barW = Math.max(2, slot * 0.7);
  const total = data.reduce((sum, d) => sum + d.total, 0);

  return (
    <figure className="usage-chart">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`Tokens per day for the last ${days} days: ${total} in total`}
      >
        <line
          x1={pad.left}
          x2={width - pad.right}
          y1={pad.top + plotH}
          y2={pad.top + plotH}
          className="axis"
        />
        <text x={pad.left - 6} y={pad.top + 10} textAnchor="end" className="tick">
          {compact(max)}
        </text>
        <text x={pad.left - 6} y={pad.top + plotH} textAnchor="end" className="tick">
          0
        </text>
        {data.map((d, i) => {
          let y = pad.top + plotH;
          const x = pad.left + i * slot + (slot - barW) / 2;
          return (
            <g key={d.day}>
              <title>{`${d.day}: ${d.total} tokens${[...d.byModel].map(([m, n]) => `\n${m}: ${n}`).join('')}`}</title>
              {[...d.byModel].map(([model, tokens]) => {
                const h = (tokens / max) * plotH;
                y -= h;
                return <rect key={model} x={x} y={y} width={barW} height={h} fill={color(model)} />;
              })}
              {(i === 0 || i === data.length - 1 || i % 7 === 0) && (
                <text x={x + barW / 2} y={height - 6} textAnchor="middle" className="tick">
                  {d.day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        {models.map((model) => (
          <span key={model}>
            <svg width="10" height="10" aria-hidden="true">
              <rect width="10" height="10" fill={color(model)} />
            </svg>{' '}
            {model}
          </span>
        ))}
        {models.length === 0 && <span className="muted">No usage in this period.</span>}
      </figcaption>
    </figure>
  );
}
