// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, NetworkError, describeError, parseRetryAfter, problemFrom } from '../api/errors.js';
import { ErrorNotice } from './ErrorNotice.js';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const apiError = (status: number, code: string, detail: string, retryAfter?: number) =>
  new ApiError(problemFrom({ code, detail, title: code }, status), retryAfter);

describe('error mapping', () => {
  it('says a message only once when its detail repeats its title (a wrong password)', () => {
    const error = new ApiError(
      problemFrom(
        {
          code: 'invalid_credentials',
          title: 'Invalid email or password',
          detail: 'Invalid email or password.',
        },
        401,
      ),
    );
    render(<ErrorNotice error={error} />);
    expect(screen.getByRole('alert').textContent?.match(/invalid email or password/gi)).toHaveLength(1);
  });

  it('tells a rate-limited user how long to wait, and counts down before allowing a retry', () => {
    vi.useFakeTimers();
    const retry = vi.fn();
    render(<ErrorNotice error={apiError(429, 'rate_limited', 'Too many requests.', 3)} onRetry={retry} />);
    expect(screen.getByRole('alert').textContent).toContain('Try again in 3 seconds');
    const button = screen.getByRole('button', { name: 'Retry' }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(screen.getByText('Retry possible in 3s')).toBeTruthy();
    for (let i = 0; i < 3; i++) act(() => void vi.advanceTimersByTime(1000));
    expect(button.disabled).toBe(false);
    fireEvent.click(button);
    expect(retry).toHaveBeenCalledOnce();
  });

  it('says the budget is spent and when it renews, without offering a retry', () => {
    render(
      <ErrorNotice
        error={apiError(429, 'quota_exceeded', 'Daily budget used.', 7200)}
        onRetry={() => undefined}
      />,
    );
    expect(screen.getByRole('alert').textContent).toContain('Token budget spent');
    expect(screen.getByRole('alert').textContent).toContain('renews in 2 hours');
    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull();
  });

  it('names an unavailable model', () => {
    const d = describeError(apiError(404, 'model_not_found', 'Model "gpt-9" is not available.'));
    expect(d.kind).toBe('model_unavailable');
    expect(d.message).toContain('gpt-9');
    expect(d.retryable).toBe(false);
  });

  it('offers a retry when the connection was lost', () => {
    const retry = vi.fn();
    render(<ErrorNotice error={new NetworkError()} onRetry={retry} />);
    expect(screen.getByRole('alert').textContent).toContain('Connection lost');
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(retry).toHaveBeenCalledOnce();
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('120')).toBe(120);
    const now = Date.parse('2025-11-23T10:00:00Z');
    expect(parseRetryAfter('Sun, 23 Nov 2025 10:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
