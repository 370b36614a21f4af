/** API version negotiation: the range Berth serves and comparison of dotted versions. */
export const API_VERSION = '1.50';
export const MIN_API_VERSION = '1.24';

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export interface VersionedPath {
  version: string;
  path: string;
}

/** Splits `/v1.41/containers/json` into version and path; unversioned paths get the server's default. */
export function splitVersion(pathname: string): VersionedPath {
  const m = /^\/v([0-9.]+)(\/.*)$/.exec(pathname);
  if (!m) return { version: API_VERSION, path: pathname };
  return { version: m[1]!, path: m[2]! };
}

/** Docker's texts for a version outside the served range, or undefined when it is fine. */
export function versionError(version: string): string | undefined {
  if (!/^[0-9]+(\.[0-9]+)*$/.test(version)) return `invalid API version: ${version}`;
  if (compareVersions(version, API_VERSION) > 0) {
    return `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`;
  }
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    return `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`;
  }
  return undefined;
}
