/** The image config JSON (OCI image-spec config.md, with Docker's extensions). */

/** The "config" part, Docker casing. */
export interface ImageConfigBody {
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  StopSignal?: string;
  OnBuild?: string[] | null;
  Healthcheck?: unknown;
  Shell?: string[];
  ArgsEscaped?: boolean;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfigJson {
  architecture?: string;
  variant?: string;
  os?: string;
  'os.version'?: string;
  created?: string;
  author?: string;
  comment?: string;
  docker_version?: string;
  parent?: string;
  config?: ImageConfigBody;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
  [extra: string]: unknown;
}

const BODY_KEY_ORDER: (keyof ImageConfigBody)[] = [
  'User',
  'ExposedPorts',
  'Env',
  'Entrypoint',
  'Cmd',
  'Healthcheck',
  'ArgsEscaped',
  'Volumes',
  'WorkingDir',
  'Labels',
  'OnBuild',
  'StopSignal',
  'Shell',
];

/** Copy of `body` with keys in a fixed order and empty values dropped, for stable config bytes. */
export function compactConfigBody(body: ImageConfigBody): ImageConfigBody {
  const out: Record<string, unknown> = {};
  for (const key of BODY_KEY_ORDER) {
    const value = body[key];
    if (isEmpty(value)) continue; // like Go's omitempty in the OCI config types
    out[key] = value;
  }
  return out as ImageConfigBody;
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value as object).length === 0;
}

/**
 * Serialises a config we create ourselves. Configs that come from elsewhere (pull, load) are
 * stored byte for byte instead, since their digest is their identity.
 */
export function serializeConfig(config: ImageConfigJson): Buffer {
  return Buffer.from(JSON.stringify(config));
}

/** Checks the parts of a config the store relies on; throws with a reason otherwise. */
export function parseConfig(bytes: Buffer): ImageConfigJson {
  const parsed = JSON.parse(bytes.toString('utf8')) as ImageConfigJson;
  if (typeof parsed !== 'object' || parsed === null) throw new Error('image config is not a JSON object');
  const rootfs = parsed.rootfs;
  if (!rootfs || rootfs.type !== 'layers' || !Array.isArray(rootfs.diff_ids)) {
    throw new Error('image config has no valid rootfs');
  }
  return parsed;
}

export interface ImportConfigInput {
  diffId: string;
  created: string;
  comment: string;
  body: ImageConfigBody;
  architecture: string;
  os: string;
}

/** Config of an image made by `docker import`: one layer, one history entry. */
export function importConfig(input: ImportConfigInput): ImageConfigJson {
  return {
    architecture: input.architecture,
    comment: input.comment,
    config: compactConfigBody(input.body),
    created: input.created,
    history: [{ created: input.created, comment: input.comment }],
    os: input.os,
    rootfs: { type: 'layers', diff_ids: [input.diffId] },
  };
}
