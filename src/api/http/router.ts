import type { RequestContext } from './context';

export type Handler = (ctx: RequestContext) => Promise<void> | void;

interface Route {
  method: string;
  regex: RegExp;
  names: string[];
  handler: Handler;
}

/**
 * Method + path routing. `{id}` matches one path segment; `{name*}` matches greedily across `/`, since image
 * references contain slashes and colons (`/images/localhost:5000/x/json`).
 */
export class Router {
  private routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    const names: string[] = [];
    const source = pattern.replace(/[.+?^$()[\]\\|]/g, '\\$&').replace(/\{(\w+)(\*?)\}/g, (_m, name: string, greedy: string) => {
      names.push(name);
      return greedy ? '(.+)' : '([^/]+)';
    });
    this.routes.push({ method, regex: new RegExp(`^${source}/?$`), names, handler });
    return this;
  }

  get(p: string, h: Handler): this {
    return this.add('GET', p, h);
  }
  post(p: string, h: Handler): this {
    return this.add('POST', p, h);
  }
  put(p: string, h: Handler): this {
    return this.add('PUT', p, h);
  }
  delete(p: string, h: Handler): this {
    return this.add('DELETE', p, h);
  }
  head(p: string, h: Handler): this {
    return this.add('HEAD', p, h);
  }

  /** The first matching route, or `methodMismatch` when only the method differs, or undefined. */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | 'methodMismatch' | undefined {
    let mismatch = false;
    for (const r of this.routes) {
      const m = r.regex.exec(path);
      if (!m) continue;
      if (r.method !== method) {
        mismatch = true;
        continue;
      }
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
      return { handler: r.handler, params };
    }
    return mismatch ? 'methodMismatch' : undefined;
  }
}
