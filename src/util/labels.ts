/**
 * A `label` filter value against a label map, as moby's filters do: `key` needs the key, `key=value`
 * the key with that value. Only the map's own keys count (a Go map has no prototype).
 */
export function labelMatches(labels: Record<string, string> | null | undefined, expr: string): boolean {
  if (!labels) return false;
  const eq = expr.indexOf('=');
  const key = eq < 0 ? expr : expr.slice(0, eq);
  if (!Object.prototype.hasOwnProperty.call(labels, key)) return false;
  return eq < 0 || labels[key] === expr.slice(eq + 1);
}
