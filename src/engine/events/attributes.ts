/** Event attribute sets as moby builds them (daemon/events.go). */

/** What an event needs of a container record. */
export interface ContainerLike {
  Id: string;
  Name: string;
  ImageRef?: string;
  Config: { Image?: string; Labels?: Record<string, string> | null };
  State?: { StartedAt?: string; FinishedAt?: string };
}

/** Go marshals map keys in byte order; keep Attributes in that order so the JSON matches Docker's. */
export function sortedAttributes(attrs: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(attrs).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) out[k] = attrs[k]!;
  return out;
}

/**
 * moby's LogContainerEventWithAttributes: the action's attributes, then the container's labels (a label wins
 * over an action attribute of the same name), then `image` and `name`, which win over everything.
 */
export function containerAttributes(c: ContainerLike, extra: Record<string, string> = {}): Record<string, string> {
  const attrs: Record<string, string> = { ...extra };
  for (const [k, v] of Object.entries(c.Config.Labels ?? {})) attrs[k] = v;
  const image = c.Config.Image || c.ImageRef || '';
  if (image) attrs.image = image;
  attrs.name = c.Name.replace(/^\//, '');
  return sortedAttributes(attrs);
}

/** Seconds the container ran, as moby puts it on `die` (time since StartedAt, whole seconds). */
export function execDuration(c: ContainerLike, nowMs = Date.now()): string | undefined {
  const started = c.State?.StartedAt ? Date.parse(c.State.StartedAt) : NaN;
  if (!Number.isFinite(started) || started <= 0) return undefined;
  return String(Math.max(0, Math.floor((nowMs - started) / 1000)));
}
