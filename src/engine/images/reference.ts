import { invalidParameter } from '../../util/errors';

/**
 * Docker image references (github.com/distribution/reference semantics):
 * `[domain[:port]/]path[:tag][@digest]`, where a missing domain means docker.io and a
 * single-component docker.io path gets the `library/` prefix. The familiar form drops both.
 */
export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const NAME_RE = new RegExp(`^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX64_RE = /^[a-f0-9]{64}$/;
const NAME_TOTAL_LENGTH_MAX = 255;

export interface ParsedReference {
  domain: string; // "docker.io", "localhost:5000"
  path: string; // "library/busybox"
  name: string; // full repository name: "docker.io/library/busybox"
  familiarName: string; // "busybox", "localhost:5000/x"
  tag?: string;
  digest?: string;
}

export class InvalidReferenceError extends Error {}

/** Parses a reference and applies Docker Hub normalisation; throws InvalidReferenceError. */
export function parseNormalizedReference(ref: string): ParsedReference {
  if (HEX64_RE.test(ref)) {
    throw new InvalidReferenceError(`invalid repository name (${ref}), cannot specify 64-byte hexadecimal strings`);
  }
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw new InvalidReferenceError('invalid reference format');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw new InvalidReferenceError('invalid reference format');
  }

  const [domain, remainder] = splitDockerDomain(rest);
  if (remainder.toLowerCase() !== remainder) {
    throw new InvalidReferenceError(`invalid reference format: repository name (${remainder}) must be lowercase`);
  }
  const name = `${domain}/${remainder}`;
  if (rest === '' || !NAME_RE.test(name)) throw new InvalidReferenceError('invalid reference format');
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidReferenceError(`invalid reference format: repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  return { domain, path: remainder, name, familiarName: familiarNameOf(domain, remainder), tag, digest };
}

function splitDockerDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = slash >= 0 ? name.slice(0, slash) : '';
  if (slash === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(slash + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

function familiarNameOf(domain: string, path: string): string {
  if (domain !== DEFAULT_DOMAIN) return `${domain}/${path}`;
  if (path.startsWith(OFFICIAL_REPO_PREFIX) && !path.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
    return path.slice(OFFICIAL_REPO_PREFIX.length);
  }
  return path;
}

/** `name[:tag][@digest]` with the full repository name. */
export function fullString(ref: ParsedReference): string {
  return ref.name + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** `familiarName[:tag][@digest]`, the form Docker shows in RepoTags and RepoDigests. */
export function familiarString(ref: ParsedReference): string {
  return ref.familiarName + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** RepoTags as Docker shows them: the tag references (no digest), familiar form. */
export function repoTags(refs: ParsedReference[]): string[] {
  return refs.filter((r) => r.tag !== undefined && r.digest === undefined).map(familiarString);
}

/** RepoDigests as Docker shows them: `familiarName@digest`. */
export function repoDigests(refs: ParsedReference[]): string[] {
  return refs.filter((r) => r.digest !== undefined).map((r) => `${r.familiarName}@${r.digest}`);
}

/** Adds the default tag when the reference has neither tag nor digest. */
export function withDefaultTag(ref: ParsedReference): ParsedReference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

export interface NormalizedReference {
  familiar: string; // "busybox:latest"
  repo: string; // full repository name: "docker.io/library/busybox"
  familiarRepo: string; // "busybox"
  tag: string; // "latest"; "" for a digest-only reference
  digest?: string;
  full: string; // "docker.io/library/busybox:latest"
}

/**
 * "busybox" → { familiar "busybox:latest", repo "docker.io/library/busybox", familiarRepo
 * "busybox", tag "latest", full "docker.io/library/busybox:latest" }. Throws a 400 EngineError
 * with Docker's message for an invalid reference.
 */
export function normalizeReference(ref: string): NormalizedReference {
  let parsed: ParsedReference;
  try {
    parsed = withDefaultTag(parseNormalizedReference(ref));
  } catch (err) {
    if (err instanceof InvalidReferenceError) throw invalidParameter(err.message);
    throw err;
  }
  return {
    familiar: familiarString(parsed),
    repo: parsed.name,
    familiarRepo: parsed.familiarName,
    tag: parsed.tag ?? '',
    ...(parsed.digest !== undefined ? { digest: parsed.digest } : {}),
    full: fullString(parsed),
  };
}

/**
 * The reference a repo/tag pair names, as `docker import`, `docker tag` and `docker commit`
 * take them: the tag parameter wins over a tag inside `repo`; "latest" when neither has one.
 */
export function repoTagReference(repo: string, tag?: string): ParsedReference {
  let parsed: ParsedReference;
  try {
    parsed = parseNormalizedReference(repo);
  } catch (err) {
    if (err instanceof InvalidReferenceError) throw invalidParameter(err.message);
    throw err;
  }
  if (parsed.digest !== undefined) throw invalidParameter('cannot import digest reference');
  if (tag) {
    if (!TAG_RE.test(tag)) throw invalidParameter('invalid tag format');
    return { ...parsed, tag };
  }
  return withDefaultTag(parsed);
}
