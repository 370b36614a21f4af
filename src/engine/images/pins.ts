/**
 * Counted pins on content digests and layer chain IDs. An operation in flight (load, import,
 * save) pins what it has written or still reads, so that a concurrent rmi or prune never
 * deletes a blob or layer it is about to reference.
 */
export class Pins {
  private readonly counts = new Map<string, number>();

  /** `onUnpinned` hears of keys whose last pin went (a deletion skipped for them may now happen). */
  constructor(private readonly onUnpinned: (keys: string[]) => void = () => undefined) {}

  /** Pins `keys`; the returned function releases exactly these pins (once). */
  pin(keys: Iterable<string>): () => void {
    const held = [...keys];
    for (const k of held) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const freed: string[] = [];
      for (const k of held) {
        const n = (this.counts.get(k) ?? 1) - 1;
        if (n <= 0) {
          this.counts.delete(k);
          freed.push(k);
        } else this.counts.set(k, n);
      }
      if (freed.length > 0) this.onUnpinned(freed);
    };
  }

  has(key: string): boolean {
    return this.counts.has(key);
  }
}

/** Runs async sections one at a time, in call order. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(() => fn());
    this.tail = result.catch(() => undefined);
    return result;
  }
}
