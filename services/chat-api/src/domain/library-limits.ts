import { AppError } from '@corral/service-kit';

/** 400 naming the field and both numbers when a text is longer than `max` (`setting` names the limit). */
export function assertLength(path: string, length: number, max: number, setting: string): void {
  if (length <= max) return;
  const message = `${length} characters; at most ${max} are accepted (${setting})`;
  throw new AppError('validation_failed', `${path}: ${message}`, {
    extensions: { errors: [{ path, message }] },
  });
}

/** 409 when `adding` more would take a user past `max` of something (`setting` names the limit). */
export function assertRoom(
  what: string,
  current: number,
  adding: number,
  max: number,
  setting: string,
): void {
  if (current + adding <= max) return;
  throw new AppError(
    'conflict',
    `At most ${max} ${what} may be kept (${setting}); ${current} are saved already. Delete some first.`,
  );
}
