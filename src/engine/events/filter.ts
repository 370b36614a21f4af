/** Event filters with moby's semantics (daemon/events/filter.go). */
import type { EngineEvent } from './bus';

export type EventFilters = Record<string, string[]>;

const FUZZY_EVENTS = new Set(['health_status', 'exec_create', 'exec_start']);

function has(f: EventFilters, key: string): boolean {
  return key in f;
}

/** Exact match; no values for the key means no filtering. */
function exact(f: EventFilters, key: string, source: string): boolean {
  const vals = f[key];
  if (!vals || vals.length === 0) return true;
  return vals.includes(source);
}

/** Exact match or the filter value is a prefix of the source. */
function fuzzy(f: EventFilters, key: string, source: string | undefined): boolean {
  const vals = f[key];
  if (!vals || vals.length === 0) return true;
  if (source === undefined) return false;
  return vals.some((v) => source === v || source.startsWith(v));
}

/** `label=k` or `label=k=v`: every label filter must match (moby's MatchKVList). */
function labels(f: EventFilters, attrs: Record<string, string>): boolean {
  const vals = f.label;
  if (!vals || vals.length === 0) return true;
  if (Object.keys(attrs).length === 0) return false;
  return vals.every((l) => {
    const i = l.indexOf('=');
    const k = i < 0 ? l : l.slice(0, i);
    if (!(k in attrs)) return false;
    return i < 0 || attrs[k] === l.slice(i + 1);
  });
}

/** The familiar name of an image reference without its tag or digest: docker.io/library/busybox:1 → busybox. */
export function stripTag(ref: string): string {
  let name = ref;
  const at = name.indexOf('@');
  if (at >= 0) name = name.slice(0, at);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) name = name.slice(0, colon);
  if (name.startsWith('docker.io/')) name = name.slice('docker.io/'.length);
  else if (name.startsWith('index.docker.io/')) name = name.slice('index.docker.io/'.length);
  if (name.startsWith('library/') && name.split('/').length === 2) name = name.slice('library/'.length);
  return name;
}

function nameMatch(f: EventFilters, type: string, ev: EngineEvent): boolean {
  return fuzzy(f, type, ev.Actor.ID) || fuzzy(f, type, ev.Actor.Attributes.name);
}

function imageMatch(f: EventFilters, ev: EngineEvent): boolean {
  const vals = f.image;
  if (!vals || vals.length === 0) return true;
  const id = ev.Actor.ID;
  const imageName = ev.Actor.Attributes[ev.Type === 'image' ? 'name' : 'image'] ?? '';
  return [id, imageName, stripTag(id), stripTag(imageName)].some((s) => vals.includes(s));
}

/** Whether `ev` passes the filters (type, event, container, image, label, network, volume, daemon, plugin, scope). */
export function eventMatches(ev: EngineEvent, f: EventFilters): boolean {
  const eventOk = (f.event ?? []).some((v) => FUZZY_EVENTS.has(v)) ? fuzzy(f, 'event', ev.Action) : exact(f, 'event', ev.Action);
  return (
    eventOk &&
    exact(f, 'type', ev.Type) &&
    (!has(f, 'scope') || exact(f, 'scope', ev.scope)) &&
    nameMatch(f, 'daemon', ev) &&
    nameMatch(f, 'container', ev) &&
    nameMatch(f, 'plugin', ev) &&
    nameMatch(f, 'volume', ev) &&
    nameMatch(f, 'network', ev) &&
    imageMatch(f, ev) &&
    labels(f, ev.Actor.Attributes)
  );
}
