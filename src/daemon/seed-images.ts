/**
 * Creates Berth's built-in images (hello-world, busybox) on a running engine through the ordinary import API,
 * skipping those that already exist. Used by the set-up script and the tests.
 *   node seed-images.js --host unix:///run/berth/berth.sock --dir dist/images
 *   node seed-images.js --ping /run/berth/berth.sock     (exit 0 when the engine answers)
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { BUILTIN_IMAGES } from '../engine/images/builtin';

function request(socketPath: string, method: string, urlPath: string, body?: NodeJS.ReadableStream): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: urlPath, headers: body ? { 'Content-Type': 'application/x-tar' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

export async function seedBuiltinImages(socketPath: string, dir: string): Promise<string[]> {
  const created: string[] = [];
  for (const img of BUILTIN_IMAGES) {
    const probe = await request(socketPath, 'GET', `/images/${encodeURIComponent(img.name)}/json`);
    if (probe.status === 200) continue;
    const [repo, tag = 'latest'] = img.name.split(':');
    const q = new URLSearchParams({ fromSrc: '-', repo: repo!, tag });
    for (const c of img.changes) q.append('changes', c);
    const res = await request(socketPath, 'POST', `/images/create?${q}`, fs.createReadStream(path.join(dir, img.tarFile)));
    const last = res.text.trim().split('\n').pop() ?? '';
    if (res.status !== 200 || last.includes('errorDetail')) throw new Error(`creating ${img.name} failed: ${res.status} ${last}`);
    created.push(img.name);
  }
  return created;
}

async function main(argv: string[]): Promise<number> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const ping = arg('--ping');
  if (ping) {
    const res = await request(ping, 'GET', '/_ping').catch(() => undefined);
    return res?.status === 200 ? 0 : 1;
  }
  const host = arg('--host') ?? 'unix:///run/berth/berth.sock';
  const dir = arg('--dir') ?? path.join(__dirname, '../../images');
  const created = await seedBuiltinImages(host.replace(/^unix:\/\//, ''), dir);
  for (const name of created) process.stdout.write(`created ${name}\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
