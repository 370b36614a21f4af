/**
 * Images Berth builds itself (scripts/build-images.sh OUTDIR) and imports through the ordinary
 * import path: `POST /images/create?fromSrc=-&repo=<repo>&tag=<tag>&changes=…` with the tar as
 * body. `tarFile` is relative to OUTDIR. The set-up script and the tests share this list.
 */
export interface BuiltinImage {
  name: string; // "repo:tag"
  repo: string;
  tag: string;
  tarFile: string;
  changes: string[];
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const BUILTIN_IMAGES: BuiltinImage[] = [
  {
    name: 'hello-world:latest',
    repo: 'hello-world',
    tag: 'latest',
    tarFile: 'hello-world.tar',
    changes: [`ENV ${DEFAULT_PATH}`, 'CMD ["/hello"]'],
  },
  {
    name: 'busybox:latest',
    repo: 'busybox',
    tag: 'latest',
    tarFile: 'busybox.tar',
    changes: [`ENV ${DEFAULT_PATH}`, 'CMD ["sh"]'],
  },
];
