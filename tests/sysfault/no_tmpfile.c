/*
 * no_tmpfile.c - runs a command where no filesystem can make unnamed files: open and openat
 * with O_TMPFILE fail with EOPNOTSUPP, as they do on NFS or CIFS. The refusal is the kernel's
 * (a seccomp filter, kept across exec), so the tests reach the path cmk takes on such a
 * filesystem (cli/outfile.c) with everything else real.
 *
 * Usage: cmk-no-tmpfile CMD [ARG]...   (the command keeps this process's pid)
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

/* O_TMPFILE is __O_TMPFILE | O_DIRECTORY; the first alone marks it. */
#define TMPFILE_BIT (O_TMPFILE & ~O_DIRECTORY)
#define ARG_LO(n)   (offsetof(struct seccomp_data, args) + (n) * sizeof(__u64)) /* little-endian */

int main(int argc, char **argv)
{
    struct sock_filter code[] = {
        /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 9), /* else 11 */
        /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 2), /* else 6 */
        /* 4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
        /* 5 */ BPF_JUMP(BPF_JMP | BPF_JA | BPF_K, 2, 0, 0),          /* to 8 */
        /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_open, 0, 4), /* else 11 */
        /* 7 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1)),
        /* 8 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, TMPFILE_BIT),
        /* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TMPFILE_BIT, 0, 1), /* else 11 */
        /* 10 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EOPNOTSUPP & SECCOMP_RET_DATA)),
        /* 11 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};

    if (argc < 2) {
        fprintf(stderr, "usage: cmk-no-tmpfile CMD [ARG]...\n");
        return 2;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        fprintf(stderr, "cmk-no-tmpfile: seccomp: %s\n", strerror(errno));
        return 2;
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "cmk-no-tmpfile: %s: %s\n", argv[1], strerror(errno));
    return 127;
}
