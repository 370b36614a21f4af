/** Errors surfaced by the client, worded the way docker's Go client words them. */

/** The daemon answered with a status >= 400. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    /** The daemon's message without the `Error response from daemon: ` prefix. */
    readonly daemonMessage: string,
    prefixed = true,
  ) {
    super(prefixed ? `Error response from daemon: ${daemonMessage}` : daemonMessage);
    this.name = 'ApiError';
  }
}

/** The daemon could not be reached at all. */
export class ConnectionError extends Error {
  constructor(message: string, readonly original?: unknown) {
    super(message);
    this.name = 'ConnectionError';
  }
}

export function connectionFailed(host: string): ConnectionError {
  return new ConnectionError(`Cannot connect to the Docker daemon at ${host}. Is the docker daemon running?`);
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 409;
}
