import { Agent, request } from 'undici';

/** One keep-alive agent for the whole bench process; generous limits so the client is not the bottleneck. */
export const agent = new Agent({ connections: 2048, pipelining: 1, keepAliveTimeout: 30_000 });

export interface JsonResponse<T> {
  status: number;
  body: T;
}

/** A JSON request that throws with the body on an unexpected status. */
export async function jsonRequest<T = unknown>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  options: { body?: unknown; token?: string; expect?: number[] } = {},
): Promise<JsonResponse<T>> {
  const res = await request(url, {
    method,
    dispatcher: agent,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.body.text();
  const expect = options.expect ?? [200, 201];
  if (!expect.includes(res.statusCode)) {
    throw new Error(`${method} ${url} → ${res.statusCode}: ${text.slice(0, 500)}`);
  }
  return { status: res.statusCode, body: (text ? JSON.parse(text) : null) as T };
}
