/**
 * Engine errors carry the HTTP status Docker uses for them (moby errdefs). The API layer turns
 * any EngineError into `{"message": ...}` with that status; anything else becomes a 500.
 */
export class EngineError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

export const invalidParameter = (msg: string): EngineError => new EngineError(400, msg);
export const notFound = (msg: string): EngineError => new EngineError(404, msg);
export const conflict = (msg: string): EngineError => new EngineError(409, msg);
export const notModified = (): EngineError => new EngineError(304, '');
export const forbidden = (msg: string): EngineError => new EngineError(403, msg);
export const notImplemented = (msg: string): EngineError => new EngineError(501, msg);
export const systemError = (msg: string): EngineError => new EngineError(500, msg);

export const noSuchContainer = (ref: string): EngineError => notFound(`No such container: ${ref}`);
export const noSuchImage = (ref: string): EngineError => notFound(`No such image: ${ref}`);

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
