/** X-Registry-Auth values from the client config's stored credentials. */
import { ConfigFile } from './config';

export const INDEX_SERVER = 'https://index.docker.io/v1/';

/** base64url(JSON AuthConfig) for a registry host; `e30=` ("{}") when there are no credentials. */
export function encodedAuthFor(registryHost: string, cfg: ConfigFile): string {
  const key = registryHost === 'docker.io' ? INDEX_SERVER : registryHost;
  const entry = cfg.auths?.[key] ?? cfg.auths?.[`https://${key}`] ?? cfg.auths?.[`http://${key}`];
  if (!entry) return 'e30=';
  const auth: Record<string, string> = {};
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      auth.username = decoded.slice(0, colon);
      auth.password = decoded.slice(colon + 1);
    }
  }
  if (entry.identitytoken) auth.identitytoken = entry.identitytoken;
  auth.serveraddress = key;
  return Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
