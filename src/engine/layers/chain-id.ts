import { sha256Digest } from '../content/digest';

/**
 * OCI image-spec chain IDs: ChainID(L0) = DiffID(L0);
 * ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln)).
 */
export function chainIdOf(parentChainId: string | null, diffId: string): string {
  return parentChainId === null ? diffId : sha256Digest(`${parentChainId} ${diffId}`);
}

/** Chain IDs for a stack of diff IDs, bottom first. */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let parent: string | null = null;
  for (const diffId of diffIds) {
    parent = chainIdOf(parent, diffId);
    out.push(parent);
  }
  return out;
}
