/** Docker image references (distribution/reference): normalising and familiar forms. */

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

export class ReferenceError extends Error {}

export interface Reference {
  /** Full name, e.g. docker.io/library/busybox */
  name: string;
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

function splitDockerDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  if (i === -1 || (!/[.:]/.test(name.slice(0, i)) && name.slice(0, i) !== 'localhost' && name.slice(0, i).toLowerCase() === name.slice(0, i))) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = name.slice(0, i);
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

/** reference.ParseNormalizedNamed */
export function parseNormalizedNamed(s: string): Reference {
  if (/^[a-f0-9]{64}$/.test(s)) {
    throw new ReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ReferenceError('invalid reference format');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ReferenceError('invalid reference format');
  }
  const [domain, path] = splitDockerDomain(rest);
  if (rest === '') throw new ReferenceError('invalid reference format');
  if (path.toLowerCase() !== path) {
    throw new ReferenceError(`invalid reference format: repository name (${path}) must be lowercase`);
  }
  if (!DOMAIN.test(domain) || !path.split('/').every((c) => COMPONENT.test(c))) {
    throw new ReferenceError('invalid reference format');
  }
  const name = `${domain}/${path}`;
  if (name.length > 255) throw new ReferenceError('repository name must not be more than 255 characters');
  return { name, domain, path, tag, digest };
}

/** reference.FamiliarName: drop docker.io/ and library/. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return ref.name;
  return ref.path.startsWith(OFFICIAL_REPO_PREFIX) && ref.path.split('/').length === 2
    ? ref.path.slice(OFFICIAL_REPO_PREFIX.length)
    : ref.path;
}

/** reference.FamiliarString */
export function familiarString(ref: Reference): string {
  let s = familiarName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** reference.TagNameOnly: adds :latest when there is neither tag nor digest. */
export function tagNameOnly(ref: Reference): Reference {
  if (ref.tag === undefined && ref.digest === undefined) return { ...ref, tag: 'latest' };
  return ref;
}

/** The tag (or digest) to send as `tag=` when pulling. */
export function apiTag(ref: Reference): string {
  if (ref.digest !== undefined) return ref.digest;
  return ref.tag ?? 'latest';
}
