/** An error the CLI reports as one line; `exitCode` 1 = failed, 2 = bad usage. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, 2);

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);
