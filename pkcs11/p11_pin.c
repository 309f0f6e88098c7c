/*
 * p11_pin.c - PINs from "file:PATH", "env:VAR" or a literal, held only in wiped buffers.
 * A PIN file holds the PIN on its first line; a trailing newline is not part of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include "p11_internal.h"

#define P11_PIN_MAX_BYTES 256

void p11_wipe(void *p, size_t len)
{
    if (p != NULL)
        explicit_bzero(p, len);
}

void p11_pin_free(char *pin, size_t len)
{
    if (pin == NULL)
        return;
    p11_wipe(pin, len);
    free(pin);
}

static CK_RV pin_read_file(const char *path, char *buf, size_t *len)
{
    size_t n = 0;
    ssize_t r;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return p11_err_set(P11_R_PIN_SOURCE, "reading PIN file '%s' (%s)", path, strerror(errno));
    while (n < P11_PIN_MAX_BYTES && (r = read(fd, buf + n, P11_PIN_MAX_BYTES - n)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            return p11_err_set(P11_R_PIN_SOURCE, "reading PIN file '%s' (%s)", path,
                               strerror(errno));
        }
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *len = strcspn(buf, "\r\n");
    return CKR_OK;
}

CK_RV p11_pin_resolve(const char *spec, int allow_literal, char **pin, size_t *len)
{
    char *buf;
    CK_RV rv = CKR_OK;

    *pin = NULL;
    *len = 0;
    if (spec == NULL || spec[0] == '\0')
        return p11_err_set(P11_R_NO_PIN, "no PIN configured");
    buf = malloc(P11_PIN_MAX_BYTES + 1);
    if (buf == NULL)
        return p11_err_set(P11_R_OUT_OF_MEMORY, "PIN buffer");
    /* a bare absolute path is a file only where a literal is not allowed (URI pin-source) */
    if (strncmp(spec, "file:", 5) == 0 || (!allow_literal && spec[0] == '/')) {
        rv = pin_read_file(spec[0] == '/' ? spec : spec + 5, buf, len);
    } else if (strncmp(spec, "env:", 4) == 0) {
        const char *v = getenv(spec + 4);

        if (v == NULL)
            rv = p11_err_set(P11_R_PIN_SOURCE, "PIN variable '%s' is not set", spec + 4);
        else if ((*len = strlen(v)) > P11_PIN_MAX_BYTES)
            rv = p11_err_set(P11_R_PIN_SOURCE, "PIN variable '%s' is too long", spec + 4);
        else
            memcpy(buf, v, *len + 1);
    } else if (allow_literal && strlen(spec) <= P11_PIN_MAX_BYTES) {
        *len = strlen(spec);
        memcpy(buf, spec, *len + 1);
    } else {
        rv = p11_err_set(P11_R_PIN_SOURCE, "PIN source is neither file:PATH nor env:VAR");
    }
    if (rv == CKR_OK && *len == 0)
        rv = p11_err_set(P11_R_PIN_SOURCE, "the PIN is empty");
    if (rv != CKR_OK) {
        p11_pin_free(buf, P11_PIN_MAX_BYTES + 1);
        *len = 0;
        return rv;
    }
    buf[*len] = '\0';
    *pin = buf;
    return CKR_OK;
}

/* FNV-1a over a per-process random salt and the PIN. Only equality matters: a PIN has so
 * little entropy that no hash would hide it from guessing; the point is not keeping the PIN. */
static uint64_t pin_salt;
static pthread_once_t pin_salt_once = PTHREAD_ONCE_INIT;

static void pin_salt_init(void)
{
    if (getrandom(&pin_salt, sizeof(pin_salt), 0) != sizeof(pin_salt))
        pin_salt = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
}

uint64_t p11_pin_fingerprint(const char *pin, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    pthread_once(&pin_salt_once, pin_salt_init);
    for (size_t i = 0; i < sizeof(pin_salt); i++)
        h = (h ^ ((pin_salt >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)pin[i]) * 0x100000001b3ULL;
    return h != 0 ? h : 1;
}
