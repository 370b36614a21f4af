/** What the image store needs to know about containers (wired by the daemon; containers own it). */
export interface ContainerUse {
  id: string;
  imageId: string;
  running: boolean;
}

export interface ImageUsage {
  containers(): ContainerUse[];
  /** The container's copy-on-write upper dir (for its size in `system df`). */
  upperDir(containerId: string): string | undefined;
}

export const NO_CONTAINERS: ImageUsage = { containers: () => [], upperDir: () => undefined };

/** Receives image events (untag, delete, tag, load, save, prune…); the daemon forwards them to the event bus. */
export type ImageEventSink = (action: string, id: string, attributes: Record<string, string>) => void;
