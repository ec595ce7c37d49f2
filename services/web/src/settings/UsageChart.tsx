import { type RefObject, useEffect, useRef, useState } from 'react';
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

/** Roughly how wide a date label ("12-07") is at the tick size, with room between two. */
const LABEL_SLOT_PX = 46;
const DEFAULT_WIDTH_PX = 640;

/** The width the chart is drawn at: one SVG unit is one CSS pixel, so text stays its size on a phone. */
function useWidth<T extends HTMLElement>(): [RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(DEFAULT_WIDTH_PX);
  useEffect(() => {
    const node = ref.current;
    if (!node || typeof ResizeObserver === 'undefined') return undefined;
    const observer = new ResizeObserver(([entry]) => {
      const measured = Math.floor(entry?.contentRect.width ?? 0);
      if (measured > 0) setWidth(measured);
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

/**
 * Which days get a date label: every `step`-th counting back from the last (today is always
 * labelled), with `step` wide enough that two labels never overlap at this width.
 */
export function labelledDays(count: number, slotPx: number): Set<number> {
  const step = Math.max(1, Math.ceil(LABEL_SLOT_PX / Math.max(slotPx, 1)));
  const labelled = new Set<number>();
  for (let i = count - 1; i >= 0; i -= step) labelled.add(i);
  return labelled;
}

/** Tokens per day, stacked by model: a small hand-drawn SVG, no chart library. */
export function UsageChart({ rows, days = 30 }: { rows: readonly UsageRow[]; days?: number }) {
  const [figure, width] = useWidth<HTMLElement>();
  const data = toChartDays(rows, days);
  const models = [...new Set(rows.map((r) => r.model))].sort();
  const color = (model: string) => PALETTE[models.indexOf(model) % PALETTE.length] ?? PALETTE[0];
  const max = Math.max(1, ...data.map((d) => d.total));
  const height = 200;
  const pad = { left: 48, right: 8, top: 10, bottom: 26 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const slot = plotW / data.length;
  const barW = Math.max(2, slot * 0.7);
  const total = data.reduce((sum, d) => sum + d.total, 0);
  const labelled = labelledDays(data.length, slot);

  return (
    <figure className="usage-chart" ref={figure}>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
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
              {labelled.has(i) && (
                <text
                  x={Math.max(x + barW / 2, pad.left)}
                  y={height - 8}
                  textAnchor={x + barW / 2 < pad.left + LABEL_SLOT_PX / 2 ? 'start' : 'middle'}
                  className="tick tick--day"
                >
                  {d.day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        {models.map((model) => (
          <span key={model} className="legend__item">
            <svg className="legend__swatch" width="10" height="10" aria-hidden="true">
              <rect width="10" height="10" fill={color(model)} />
            </svg>
            {model}
          </span>
        ))}
        {models.length === 0 && <span className="muted">No usage in this period.</span>}
      </figcaption>
    </figure>
  );
}
