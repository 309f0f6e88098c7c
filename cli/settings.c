/* settings.c - where the token is: a config file, or the embedded SoftHSM token. */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static int setting_set(char **dst, const char *value)
{
    free(*dst);
    *dst = strdup(value);
    return *dst != NULL;
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Lines "name = value"; '#' starts a comment. A PIN itself is refused here: only a source. */
static int settings_read_file(cmk_settings *s, const char *path)
{
    static const struct {
        const char *name;
        size_t off;
    } keys[] = {
        {"module", offsetof(cmk_settings, module)},
        {"token", offsetof(cmk_settings, token)},
        {"pin-source", offsetof(cmk_settings, pin_source)},
        {"init-args", offsetof(cmk_settings, init_args)},
        {"softhsm-conf", offsetof(cmk_settings, softhsm_conf)},
        {"provider", offsetof(cmk_settings, provider)},
        {"audit-log", offsetof(cmk_settings, audit_log)},
        {"key-cache-seconds", offsetof(cmk_settings, cache_seconds)},
    };
    char line[4096];
    unsigned lineno = 0;
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return cli_fail(CMK_EXIT_CONFIG, "config %s: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), f) != NULL) {
        char *eq, *name, *value, *hash = strchr(line, '#');
        size_t i;

        lineno++;
        if (hash != NULL)
            *hash = '\0';
        if (*trim(line) == '\0')
            continue;
        if ((eq = strchr(line, '=')) == NULL) {
            fclose(f);
            return cli_fail(CMK_EXIT_CONFIG, "config %s:%u: expected 'name = value'", path, lineno);
        }
        *eq = '\0';
        name = trim(line);
        value = trim(eq + 1);
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (strcmp(name, keys[i].name) == 0)
                break;
        if (i == sizeof(keys) / sizeof(keys[0])) {
            fclose(f);
            return cli_fail(CMK_EXIT_CONFIG, "config %s:%u: unknown setting '%s'", path, lineno,
                            name);
        }
        if (!setting_set((char **)((char *)s + keys[i].off), value)) {
            fclose(f);
            return cli_fail(CMK_EXIT_FAIL, "out of memory");
        }
    }
    fclose(f);
    if (s->module == NULL || s->token == NULL)
        return cli_fail(CMK_EXIT_CONFIG, "config %s: 'module' and 'token' are required", path);
    return CMK_EXIT_OK;
}

int cli_settings_load(cmk_settings *s, const char *config_path)
{
    if (config_path == NULL)
        config_path = getenv("CMK_CONFIG");
    if (config_path != NULL && config_path[0] != '\0')
        return settings_read_file(s, config_path);
    return cli_embedded_settings(s);
}

void cli_settings_free(cmk_settings *s)
{
    free(s->module);
    free(s->token);
    free(s->pin_source);
    free(s->init_args);
    free(s->softhsm_conf);
    free(s->provider);
    free(s->audit_log);
    free(s->cache_seconds);
    memset(s, 0, sizeof(*s));
}
