import type { DockerSeccompProfile, DockerSyscallRule } from './seccomp';
import { SYSCALL_NAMES } from './seccomp-syscalls';

/**
 * Berth's default seccomp profile, with the semantics of Docker's: deny with EPERM by default, allow the
 * ordinary syscalls, and open the privileged ones only when the container holds the matching capability.
 */

/** Calls a container never gets from the default profile (kernel keyrings, kexec, io_uring, obsolete calls…). */
const ALWAYS_DENIED = [
  '_sysctl', 'add_key', 'afs_syscall', 'bdflush', 'break', 'create_module', 'ftime', 'get_kernel_syms', 'getpmsg',
  'gtty', 'idle', 'io_uring_enter', 'io_uring_register', 'io_uring_setup', 'kexec_file_load', 'kexec_load', 'keyctl',
  'lock', 'migrate_pages', 'move_pages', 'mpx', 'nfsservctl', 'nice', 'oldfstat', 'oldlstat', 'oldolduname', 'oldstat',
  'olduname', 'pivot_root', 'prof', 'profil', 'putpmsg', 'query_module', 'readdir', 'request_key', 'security',
  'sgetmask', 'sigaction', 'signal', 'sigpending', 'sigsuspend', 'ssetmask', 'stty', 'swapoff', 'swapon', 'sysfs',
  'tuxcall', 'ulimit', 'uselib', 'userfaultfd', 'ustat', 'vm86', 'vm86old', 'vserver',
];

/** Calls opened by one capability each (a container without it gets EPERM, as under Docker). */
const BY_CAPABILITY: Record<string, string[]> = {
  CAP_SYS_ADMIN: [
    'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie',
    'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount', 'mount_setattr', 'move_mount', 'open_tree',
    'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname', 'sethostname', 'setns', 'syslog', 'umount',
    'umount2', 'unshare',
  ],
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['delete_module', 'init_module', 'finit_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
};

/** Calls allowed only with argument conditions (or, for clone3, answered with ENOSYS so libc falls back to clone). */
const CONDITIONAL = ['socket', 'personality', 'clone', 'clone3'];

/** Namespace flags of clone(2): CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
const CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
/** Address families socket(2) may not open: AF_ALG (kernel crypto) and AF_VSOCK (host sockets). */
const DENIED_FAMILIES = [38, 40];

/** socket(2) rules allowing every family but the denied ones (one comparison per rule, as libseccomp wants). */
function socketRules(): DockerSyscallRule[] {
  const rules: DockerSyscallRule[] = [];
  const rule = (value: number, op: string): DockerSyscallRule => ({ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op }] });
  const denied = [...DENIED_FAMILIES].sort((a, b) => a - b);
  rules.push(rule(denied[0]!, 'SCMP_CMP_LT'));
  for (let i = 0; i + 1 < denied.length; i++) for (let v = denied[i]! + 1; v < denied[i + 1]!; v++) rules.push(rule(v, 'SCMP_CMP_EQ'));
  rules.push(rule(denied[denied.length - 1]!, 'SCMP_CMP_GT'));
  return rules;
}
/** personality(2) values Docker lets through: PER_LINUX, PER_LINUX32, UNAME26 variants, and the query value. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

let cached: DockerSeccompProfile | undefined;

export function defaultSeccompProfile(): DockerSeccompProfile {
  if (cached) return cached;
  const restricted = new Set([...ALWAYS_DENIED, ...CONDITIONAL, ...Object.values(BY_CAPABILITY).flat()]);
  // ptrace and process_vm_* are safe since Linux 4.8 (seccomp is re-checked after a tracer changes a call).
  for (const n of ['ptrace', 'process_vm_readv', 'process_vm_writev']) restricted.delete(n);
  const rules: DockerSyscallRule[] = [
    { names: SYSCALL_NAMES.filter((n) => !restricted.has(n)), action: 'SCMP_ACT_ALLOW' },
    ...socketRules(),
    ...PERSONALITIES.map((p): DockerSyscallRule => ({
      names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: p, op: 'SCMP_CMP_EQ' }],
    })),
    ...Object.entries(BY_CAPABILITY).map(([cap, names]): DockerSyscallRule => ({
      names, action: 'SCMP_ACT_ALLOW', includes: { caps: [cap] },
    })),
    // Without CAP_SYS_ADMIN, clone may not create namespaces, and clone3 (whose flags seccomp cannot see) says ENOSYS.
    {
      names: ['clone'], action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
  ];
  cached = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
    syscalls: rules,
  };
  return cached;
}
