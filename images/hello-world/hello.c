/*
 * Berth's hello-world: a static x86_64 program without libc. It makes exactly two system calls,
 * write(2) and exit(2), so the image needs no other file. Built by build.sh beside this file.
 */

static const char message[] =
    "Hello from Berth!\n"
    "If you can read this, your Berth engine just ran a container from an image.\n"
    "\n"
    "Here is what just happened:\n"
    " 1. Your client (berth or docker) sent the request to the Berth daemon over its socket.\n"
    " 2. The daemon found the \"hello-world\" image in its local image store.\n"
    " 3. The daemon created a container from that image: a fresh root filesystem made of the\n"
    "    image's layers, its own namespaces, and this small program as its only process.\n"
    " 4. The program wrote this text; the daemon carried the output back to your client,\n"
    "    which printed it in your terminal.\n"
    "\n"
    "For something more interactive, start a shell in a container:\n"
    " $ docker run -it --rm busybox sh\n"
    "\n"
    "Berth speaks the Docker Engine API, so the docker CLI, compose and the SDKs work with it.\n";

static long syscall3(long number, long a, long b, long c) {
  long result;
  __asm__ volatile("syscall"
                   : "=a"(result)
                   : "a"(number), "D"(a), "S"(b), "d"(c)
                   : "rcx", "r11", "memory");
  return result;
}

#define SYS_write 1
#define SYS_exit 60

void _start(void) {
  long left = sizeof(message) - 1;
  const char *p = message;
  while (left > 0) {
    long n = syscall3(SYS_write, 1, (long)p, left);
    if (n <= 0) syscall3(SYS_exit, 1, 0, 0);
    p += n;
    left -= n;
  }
  syscall3(SYS_exit, 0, 0, 0);
  for (;;) {
  }
}
