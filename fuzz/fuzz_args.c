/*
 * fuzz_args.c - the `cmk` command's argument parsing: global flags, the verb dispatch and each
 * verb's options, by calling the real main (cli/main.c compiled with main renamed cmk_main) in
 * this process, as a user would run it, against a token that cannot be reached.
 *
 * Input: the arguments after "cmk", separated by NUL bytes (at most FUZZ_ARGS_MAX).
 *
 * The world the command sees is a scratch folder (made once under /dev/shm or /tmp, removed at the
 * end; also the working folder): a config file ($CMK_CONFIG) naming a PKCS#11 module that does not
 * exist, so every verb that needs the token parses its arguments and then fails at the token step;
 * a valid cmk file f.cmk (decrypt and inspect read its header); an audit log with two records (cmk
 * audit); SOFTHSM2_CONF naming no file, so a registered module named on the command line cannot
 * initialize; and $XDG_DATA_HOME a plain file, so the embedded token can never be made.
 * Standard input is /dev/null. The command runs in the scratch folder; libFuzzer's own working
 * folder is restored after each input.
 *
 * main() exits the process for a global flag given without its value; such inputs are run in
 * a child process (fork) so the run goes on; the check below mirrors main's flag loop. The
 * child ends with _exit (the harness is linked with --wrap=exit): libFuzzer's own exit handler
 * would report an exit as a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include "fuzz_util.h"
#include "../audit/audit.h"
#include "../envelope/stream.h"

#define FUZZ_ARGS_MAX 32

int cmk_main(int argc, char **argv);
void __real_exit(int code) __attribute__((noreturn));
void __wrap_exit(int code) __attribute__((noreturn));

static int in_child;

void __wrap_exit(int code)
{
    if (in_child)
        _exit(code);
    __real_exit(code);
}

static char scratch[64];
static char conf[128], notdir[128], nosofthsm[128];
static int home_fd = -1; /* libFuzzer's working folder: its corpus paths are relative to it */

static void file_put(const char *name, const char *text)
{
    FILE *f = fopen(name, "w");

    FUZZ_CHECK(f != NULL && fputs(text, f) >= 0 && fclose(f) == 0);
}

/* f.cmk: a real cmk file of 100 bytes under a key the unreachable token would hold. */
static void cmk_file_make(void)
{
    env_stream_opts o = {.threads = 1};
    env_header h = {0};
    uint8_t ikm[ENV_KEY_BYTES], pt[100];
    int in, out = open("f.cmk", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    memset(ikm, 0x42, sizeof(ikm));
    memset(pt, 'x', sizeof(pt));
    strcpy(h.key_name, "fuzz");
    strcpy(h.key_version, "00063a1b2c3d4e5f01020304");
    h.wrap_alg = ENV_WRAP_RSA_OAEP_256;
    h.wrapped_len = 256;
    h.chunk_bytes = ENV_MIN_CHUNK_BYTES;
    FUZZ_CHECK(env_header_context_set(&h, "tenant", "fuzz"));
    in = fuzz_fd_with(pt, sizeof(pt));
    FUZZ_CHECK(out >= 0 && env_stream_encrypt(&o, &h, ikm, in, out) == ENV_OK);
    close(in);
    close(out);
}

static int scratch_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) != 0 ? -1 : 0;
}

/* At libFuzzer's normal end (a crash keeps the folder, to look at). */
static void scratch_free(void)
{
    nftw(scratch, scratch_rm, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char text[1024];
    audit_event ev = {"fuzz", "00063a1b2c3d4e5f01020304", "create", "ok", NULL};
    int null_fd = open("/dev/null", O_RDONLY);

    (void)argc;
    (void)argv;
    FUZZ_CHECK((home_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0);
    /* in memory where there is a tmpfs: the command fsyncs what it writes */
    snprintf(scratch, sizeof(scratch), "%s/cmk-fuzz-args-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    FUZZ_CHECK(mkdtemp(scratch) != NULL && chdir(scratch) == 0);
    atexit(scratch_free);
    FUZZ_CHECK(null_fd >= 0 && dup2(null_fd, STDIN_FILENO) == STDIN_FILENO);
    close(null_fd);
    snprintf(conf, sizeof(conf), "%s/cmk.conf", scratch);
    snprintf(notdir, sizeof(notdir), "%s/not-a-folder", scratch);
    snprintf(nosofthsm, sizeof(nosofthsm), "%s/no-softhsm2.conf", scratch);
    snprintf(text, sizeof(text),
             "# cmk-fuzz: a token that cannot be reached\n"
             "module = %s/no-such-module.so\ntoken = pkcs11:token=cmk-fuzz\n"
             "pin-source = env:CMK_FUZZ_PIN\nprovider = %s/no-such-cmk.so\n"
             "audit-log = %s/audit.log\nkey-cache-seconds = 0\n",
             scratch, scratch, scratch);
    file_put(conf, text);
    file_put(notdir, "");
    cmk_file_make();
    FUZZ_CHECK(audit_log_append("audit.log", &ev) == 0);
    ev.op = "rotate";
    FUZZ_CHECK(audit_log_append("audit.log", &ev) == 0);
    FUZZ_CHECK(fchdir(home_fd) == 0);
    return 0;
}

/* Does main's global flag loop end in exit() for these arguments (a flag missing its value)? */
static int main_exits(int argc, char **argv)
{
    static const char *const valued[] = {"--config", "--module", "--token", "--pin-source",
                                         "--key-cache-seconds"};

    for (int i = 1; i < argc && argv[i][0] == '-'; i += 2) {
        size_t f;

        if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "--help") == 0 ||
            strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--pin") == 0)
            return 0;
        for (f = 0; f < sizeof(valued) / sizeof(valued[0]); f++)
            if (strcmp(argv[i], valued[f]) == 0)
                break;
        if (f == sizeof(valued) / sizeof(valued[0]))
            return 0;
        if (i + 1 >= argc)
            return 1;
    }
    return 0;
}

static void world_reset(void)
{
    /* a config file may set SOFTHSM2_CONF; the command may change nothing else of ours */
    setenv("CMK_CONFIG", conf, 1);
    setenv("SOFTHSM2_CONF", nosofthsm, 1);
    setenv("HOME", scratch, 1);
    setenv("XDG_DATA_HOME", notdir, 1);
    unsetenv("CMK_PROVIDER");
    unsetenv("CMK_AUDIT_LOG");
    FUZZ_CHECK(chdir(scratch) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *args = fuzz_str(data, size), *argv[FUZZ_ARGS_MAX + 2];
    int argc = 0;
    size_t at = 0;

    argv[argc++] = "cmk";
    while (argc <= FUZZ_ARGS_MAX && at < size) {
        argv[argc++] = args + at;
        at += strlen(args + at) + 1;
    }
    argv[argc] = NULL;
    world_reset();
    if (main_exits(argc, argv)) {
        pid_t pid = fork(), w;
        int st = 0;

        if (pid == 0) {
            in_child = 1;
            _exit(cmk_main(argc, argv) == 0 ? 100 : 101); /* main must exit before this */
        }
        FUZZ_CHECK(pid > 0);
        /* libFuzzer's timer (SIGALRM, -timeout) may interrupt the wait */
        while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
            ;
        /* back in libFuzzer's folder before any check: a crash input is written there */
        FUZZ_CHECK(fchdir(home_fd) == 0);
        FUZZ_CHECK(w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 2);
    } else {
        int rc = cmk_main(argc, argv);

        FUZZ_CHECK(fchdir(home_fd) == 0);
        FUZZ_CHECK(rc >= 0 && rc <= 5);
    }
    /* What the end of the process would drop: OpenSSL's error queue, and the configuration
     * modules OSSL_LIB_CTX_load_config records in a global list that freeing the library
     * context leaves (OpenSSL 3.0). Else every input adds to the heap, and libFuzzer, seeing
     * more allocations than frees, runs a whole leak scan after each one. */
    ERR_clear_error();
    CONF_modules_unload(1);
    free(args);
    return 0;
}
