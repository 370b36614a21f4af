import { EngineError } from '../../util/errors';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) continue;
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' });
  }
  return out;
}

function parseGroup(text: string | undefined): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || line.startsWith('#')) continue;
    out.push({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

const isNumeric = (s: string) => /^[0-9]+$/.test(s);

/**
 * Resolves Docker's `user[:group]` against the image's /etc/passwd and /etc/group, as moby does:
 * names must exist, numeric ids need not; the supplementary groups are those listing the user.
 */
export function resolveUser(spec: string, readFile: (path: string) => string | undefined): ResolvedUser {
  const [userPart = '', groupPart] = spec.split(':', 2);
  const passwd = parsePasswd(readFile('/etc/passwd'));
  const groups = parseGroup(readFile('/etc/group'));

  let uid = 0;
  let gid = 0;
  let home = '/';
  let name = 'root';
  const user = userPart === '' ? passwd.find((p) => p.uid === 0) : passwd.find((p) => p.name === userPart || (isNumeric(userPart) && p.uid === Number(userPart)));
  if (user) {
    ({ uid, gid, home, name } = user);
  } else if (userPart === '') {
    uid = 0;
  } else if (isNumeric(userPart)) {
    uid = Number(userPart);
    name = '';
  } else {
    throw new EngineError(500, `unable to find user ${userPart}: no matching entries in passwd file`);
  }

  if (groupPart !== undefined && groupPart !== '') {
    const group = groups.find((g) => g.name === groupPart || (isNumeric(groupPart) && g.gid === Number(groupPart)));
    if (group) gid = group.gid;
    else if (isNumeric(groupPart)) gid = Number(groupPart);
    else throw new EngineError(500, `unable to find group ${groupPart}: no matching entries in group file`);
  }

  const additionalGids = name ? groups.filter((g) => g.members.includes(name) && g.gid !== gid).map((g) => g.gid) : [];
  return { uid, gid, additionalGids, home };
}
