import type { IncomingMessage, ServerResponse } from 'node:http';
import { SimHttpError } from './http-util.js';
import type { SimModel } from './models.js';
import type { SimRuntime } from './runtime.js';
import type { GpuTicket, Grant } from './scheduler.js';

export interface RouteContext {
  rt: SimRuntime;
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  /** Parsed JSON body for POST routes, `{}` otherwise. */
  body: Record<string, unknown>;
  /** process.hrtime.bigint() when the request arrived. */
  receivedAt: bigint;
  /** Set when the drop-mid-stream failure applies to this request. */
  dropAfterTokens?: number;
}

export interface Route {
  /** Generations are the only routes drop-mid-stream applies to. */
  generation?: boolean;
  /** Whether to read and parse a JSON body first. */
  jsonBody?: boolean;
  handle(ctx: RouteContext): void | Promise<void>;
}

/** Routes keyed by "METHOD /path". */
export type RouteTable = Record<string, Route>;

export const BUSY_MESSAGE = 'server busy, please try again.  maximum pending requests exceeded';

export function objectField(body: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = body[field];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new SimHttpError(400, `${field} must be an object`);
  return value as Record<string, unknown>;
}

/** Runs quick work (embeddings) once its model is loaded and has a free slot, like a generation. */
export function withSlot(
  rt: SimRuntime,
  res: ServerResponse,
  model: SimModel,
  keepAliveMs: number,
  work: (modelReadyAt: bigint) => void,
): void {
  let ticket: GpuTicket | null = null;
  const run = (grant: Grant): void => {
    try {
      if (!res.destroyed) work(grant.modelReadyAt);
    } finally {
      if (ticket) rt.scheduler.release(ticket);
      else released = true;
    }
  };
  let released = false;
  ticket = rt.scheduler.enter(model, keepAliveMs, '', run);
  if (!ticket) {
    rt.stats.rejectedBusy++;
    throw new SimHttpError(503, BUSY_MESSAGE);
  }
  const own = ticket;
  if (released) return rt.scheduler.release(own);
  res.on('close', () => {
    if (own.state !== 'queued' && own.state !== 'loading') return;
    rt.scheduler.release(own);
    rt.stats.cancelled++;
  });
}

/** Texts from an embedding `input`: a string or an array of strings. */
export function embeddingInputs(input: unknown): string[] {
  if (input === undefined || input === null) return [];
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((item) => typeof item === 'string')) return input as string[];
  throw new SimHttpError(400, 'invalid input type');
}

/** Requested vector length: the model's own unless `dimensions` asks for fewer. */
export function embeddingDimensions(requested: unknown, modelDimension: number): number {
  if (requested === undefined || requested === null) return modelDimension;
  if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1) {
    throw new SimHttpError(400, 'dimensions must be a positive integer');
  }
  return Math.min(requested, modelDimension);
}
