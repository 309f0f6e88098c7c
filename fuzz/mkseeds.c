/*
 * mkseeds.c - writes the seed corpora of fuzz/corpus/ that are made by cmk's own code: real
 * file headers and files (header), sealed chunk streams (chunk), state objects and audit
 * records (config). The hand-written seeds (URIs, configs, argument lists) are files in the
 * corpus folders themselves. `make fuzz-seeds` runs it; its output is committed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "../audit/audit.h"
#include "../envelope/stream.h"
#include "../keystate/keystate.h"

static void seed_put(const char *dir, const char *name, const void *buf, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((f = fopen(path, "wb")) == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void header_fill(env_header *h, const char *name, const char *version, env_wrap_alg alg,
                        size_t wrapped_len, uint32_t chunk_bytes)
{
    memset(h, 0, sizeof(*h));
    snprintf(h->key_name, sizeof(h->key_name), "%s", name);
    snprintf(h->key_version, sizeof(h->key_version), "%s", version);
    h->wrap_alg = alg;
    h->wrapped_len = wrapped_len;
    for (size_t i = 0; i < wrapped_len; i++)
        h->wrapped[i] = (uint8_t)(i * 7 + 1);
    h->chunk_bytes = chunk_bytes;
    for (size_t i = 0; i < ENV_SALT_BYTES; i++)
        h->salt[i] = (uint8_t)(0xa0 + i);
    memset(h->commitment, 0xc3, ENV_COMMIT_BYTES);
}

static void header_seed(const char *dir, const char *name, const env_header *h)
{
    env_buf b = {0};

    if (!env_header_encode(h, &b)) {
        fprintf(stderr, "mkseeds: header %s does not encode\n", name);
        exit(1);
    }
    seed_put(dir, name, b.data, b.len);
    env_buf_free(&b);
}

static void headers(const char *dir)
{
    env_header h;
    char k[8], v[300];
    int in, out;
    uint8_t ikm[ENV_KEY_BYTES], pt[3000];
    env_stream_opts o = {.threads = 1};
    size_t len;
    uint8_t *file;

    header_fill(&h, "k", "1", ENV_WRAP_RSA_OAEP, 1, ENV_MIN_CHUNK_BYTES);
    header_seed(dir, "minimal", &h);
    header_fill(&h, "payroll", "00063a1b2c3d4e5f01020304", ENV_WRAP_RSA_OAEP_256, 256, 1u << 20);
    env_header_context_set(&h, "tenant", "acme");
    env_header_context_set(&h, "app", "billing");
    env_header_context_set(&h, "empty", "");
    header_seed(dir, "typical-rsa2048", &h);
    header_fill(&h, "", "", ENV_WRAP_RSA_OAEP_256, ENV_MAX_WRAPPED_BYTES, ENV_MAX_CHUNK_BYTES);
    memset(h.key_name, 'n', ENV_MAX_NAME_BYTES);
    memset(h.key_version, 'v', ENV_MAX_VERSION_BYTES);
    memset(v, 'x', ENV_MAX_CONTEXT_BYTES);
    v[ENV_MAX_CONTEXT_BYTES] = '\0';
    for (int i = 0; i < ENV_MAX_CONTEXT_PAIRS; i++) {
        snprintf(k, sizeof(k), "k%02d", i);
        env_header_context_set(&h, k, v);
    }
    header_seed(dir, "largest", &h);

    /* a whole small file, header and body, as cmk encrypt writes it */
    header_fill(&h, "payroll", "00063a1b2c3d4e5f01020304", ENV_WRAP_RSA_OAEP_256, 256,
                ENV_MIN_CHUNK_BYTES);
    env_header_context_set(&h, "tenant", "acme");
    memset(ikm, 0x42, sizeof(ikm));
    for (size_t i = 0; i < sizeof(pt); i++)
        pt[i] = (uint8_t)i;
    in = memfd_create("pt", 0);
    out = memfd_create("ct", 0);
    if (write(in, pt, sizeof(pt)) != (ssize_t)sizeof(pt) || lseek(in, 0, SEEK_SET) != 0 ||
        env_stream_encrypt(&o, &h, ikm, in, out) != ENV_OK) {
        fprintf(stderr, "mkseeds: encrypt failed\n");
        exit(1);
    }
    len = (size_t)lseek(out, 0, SEEK_END);
    file = malloc(len);
    if (pread(out, file, len, 0) != (ssize_t)len)
        exit(1);
    seed_put(dir, "file-3000-bytes", file, len);
    free(file);
    close(in);
    close(out);
}

/* chunk inputs: mode byte, 8-byte index, payload (fuzz_chunk.c) */
static void chunk_seed(const char *dir, const char *name, uint8_t mode, uint64_t index,
                       size_t payload_len)
{
    uint8_t *buf = malloc(9 + payload_len);

    buf[0] = mode;
    for (int i = 0; i < 8; i++)
        buf[1 + i] = (uint8_t)(index >> (8 * (7 - i)));
    for (size_t i = 0; i < payload_len; i++)
        buf[9 + i] = (uint8_t)(i * 31 + 7);
    seed_put(dir, name, buf, 9 + payload_len);
    free(buf);
}

static void chunks(const char *dir)
{
    chunk_seed(dir, "raw-body", 0x00, 0, 100);
    chunk_seed(dir, "raw-last-chunk", 0x01, 3, 40);
    chunk_seed(dir, "sealed-empty", 0x02, 0, 0);
    chunk_seed(dir, "sealed-one-chunk", 0x03, 1, 100);
    chunk_seed(dir, "sealed-exact-chunk", 0x02, 0, 1024);
    chunk_seed(dir, "sealed-three-chunks", 0x02, 0, 2100);
    chunk_seed(dir, "sealed-bit-flipped", 0x36, 1030, 2100);
    chunk_seed(dir, "sealed-cut", 0x0a, 1040, 2100);
    chunk_seed(dir, "index-past-max", 0x02, UINT64_MAX, 20);
    chunk_seed(dir, "sealed-seven-chunks-three-threads", 0x82, 0, 7000);
}

static void states(const char *dir)
{
    ks_state s = {0};
    char buf[2048];
    size_t n;

    snprintf(s.kind, sizeof(s.kind), "RSA-HSM");
    s.ops = KS_OP_WRAP | KS_OP_UNWRAP;
    s.bits = 2048;
    s.updated = 1764089547123456LL;
    s.created = 1764089547;
    s.retention_days = 30;
    n = ks_state_format(&s, buf, sizeof(buf));
    seed_put(dir, "state-new-key", buf, n);
    snprintf(s.kind, sizeof(s.kind), "RSA");
    s.ops |= KS_OP_SIGN | KS_OP_VERIFY;
    s.bits = 4096;
    s.not_before = 1764089547;
    s.expires = 1795625547;
    s.rotate_after_days = 90;
    s.retention_days = 7;
    s.purge_protection = 1;
    s.deleted_at = 1764189547;
    snprintf(s.recover_enable, sizeof(s.recover_enable),
             "00063a1b2c3d4e5f01020304,00063a1b2c3d4e5f01020305");
    n = ks_state_format(&s, buf, sizeof(buf));
    seed_put(dir, "state-deleted-key", buf, n);
}

static void audit_log(const char *dir)
{
    char path[512];
    audit_event ev = {"payroll", "00063a1b2c3d4e5f01020304", "create", "ok", NULL};
    audit_event ev2 = {"payroll", "-", "unwrap", "refused", "key is\tdisabled %"};
    FILE *f;
    char buf[8192];
    size_t n;

    snprintf(path, sizeof(path), "/tmp/cmk-mkseeds-%d.log", (int)getpid());
    if (audit_log_append(path, &ev) != 0 || audit_log_append(path, &ev2) != 0) {
        fprintf(stderr, "mkseeds: audit append failed\n");
        exit(1);
    }
    f = fopen(path, "r");
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    seed_put(dir, "audit-log-two-records", buf, n);
    unlink(path);
    strcat(path, ".head");
    unlink(path);
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "fuzz/corpus";
    char dir[512];

    snprintf(dir, sizeof(dir), "%s/header", root);
    headers(dir);
    snprintf(dir, sizeof(dir), "%s/chunk", root);
    chunks(dir);
    snprintf(dir, sizeof(dir), "%s/config", root);
    states(dir);
    audit_log(dir);
    return 0;
}
