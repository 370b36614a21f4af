/** What the image store needs to know about containers (wired by the daemon; containers own it). */
export interface ContainerUse {
  id: string;
  imageId: string;
  running: boolean;
}

export interface ImageUsage {
  containers(): ContainerUse[];
  /** Bytes in the container's copy-on-write layer (its SizeRw in `system df`). */
  sizeRw(containerId: string): number;
}

export const NO_CONTAINERS: ImageUsage = { containers: () => [], sizeRw: () => 0 };

/** Receives image events (untag, delete, tag, load, save, prune…); the daemon forwards them to the event bus. */
export type ImageEventSink = (action: string, id: string, attributes: Record<string, string>) => void;
