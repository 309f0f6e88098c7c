/*
 * p11_module.c - one loaded, initialized PKCS#11 module per path, shared and refcounted.
 * p11-kit loads the library (P11_KIT_MODULE_UNMANAGED: we call C_Initialize ourselves, so the
 * init args reach the module); PKCS#11 v2.40 section 5.4 for C_Initialize, 6.6 for fork.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <p11-kit/p11-kit.h>
#include "p11_internal.h"

static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static p11_module *modules;
static atomic_int exiting;

void p11_exiting_set(void)
{
    atomic_store(&exiting, 1);
}

int p11_exiting(void)
{
    return atomic_load(&exiting);
}

static CK_RV module_initialize(p11_module *m)
{
    CK_C_INITIALIZE_ARGS args;

    /* OS locking: without it SoftHSM is not thread-safe (design.md, platform facts). */
    memset(&args, 0, sizeof(args));
    args.flags = CKF_OS_LOCKING_OK;
    args.pReserved = m->init_args;
    return m->f->C_Initialize(&args);
}

/* A registered name ("softhsm2") becomes the path p11-kit's configuration gives it. */
static CK_RV module_resolve(const char *name, char **path)
{
    CK_FUNCTION_LIST **all, *f;
    char *file = NULL;

    if (strchr(name, '/') != NULL) {
        *path = strdup(name);
        return *path != NULL ? CKR_OK : p11_err_set(P11_R_OUT_OF_MEMORY, "module path");
    }
    all = p11_kit_modules_load(NULL, P11_KIT_MODULE_UNMANAGED);
    f = all != NULL ? p11_kit_module_for_name(all, name) : NULL;
    if (f != NULL)
        file = p11_kit_module_get_filename(f);
    if (all != NULL)
        p11_kit_modules_release(all);
    if (file == NULL)
        return p11_err_set(P11_R_MODULE_LOAD,
                           "module '%s' is not a path and p11-kit registers no module by that name",
                           name);
    *path = file;
    return CKR_OK;
}

static void module_free(p11_module *m)
{
    if (m == NULL)
        return;
    if (m->f != NULL && !p11_exiting()) {
        if (m->we_initialized && !(m->quirks & P11_QUIRK_NO_FINALIZE) && m->pid == getpid())
            m->f->C_Finalize(NULL);
        p11_kit_module_release(m->f);
    }
    free(m->path);
    free(m->description);
    free(m->init_args);
    free(m);
}

static CK_RV module_new(const char *path, const char *init_args, p11_module **out)
{
    p11_module *m = calloc(1, sizeof(*m));
    CK_RV rv;

    if (m == NULL)
        return p11_err_set(P11_R_OUT_OF_MEMORY, "module");
    m->path = strdup(path);
    m->init_args = init_args != NULL ? strdup(init_args) : NULL;
    if (m->path == NULL || (init_args != NULL && m->init_args == NULL)) {
        rv = p11_err_set(P11_R_OUT_OF_MEMORY, "module");
        goto err;
    }
    m->f = p11_kit_module_load(path, P11_KIT_MODULE_UNMANAGED);
    if (m->f == NULL) {
        const char *why = p11_kit_message();

        rv = p11_err_set(P11_R_MODULE_LOAD, "loading PKCS#11 module '%s' (%s)", path,
                         why != NULL ? why : "p11-kit could not load it");
        goto err;
    }
    rv = module_initialize(m);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        p11_err_set(rv, "C_Initialize of module '%s'", path);
        goto err;
    }
    m->we_initialized = rv == CKR_OK;
    rv = m->f->C_GetInfo(&m->info);
    if (rv != CKR_OK) {
        p11_err_set(rv, "C_GetInfo of module '%s'", path);
        goto err;
    }
    m->description = calloc(1, sizeof(m->info.libraryDescription) + 1);
    if (m->description == NULL) {
        rv = p11_err_set(P11_R_OUT_OF_MEMORY, "module");
        goto err;
    }
    p11_uri_unpad(m->description, m->info.libraryDescription, sizeof(m->info.libraryDescription));
    m->quirks = p11_quirks_get(&m->info);
    m->pid = getpid();
    atomic_store(&m->generation, 1);
    m->refs = 1;
    *out = m;
    return CKR_OK;
err:
    m->we_initialized = 0;
    module_free(m);
    return rv;
}

CK_RV p11_module_get(const char *name_or_path, const char *init_args, p11_module **out)
{
    p11_module *m;
    char *path = NULL;
    CK_RV rv;

    if (name_or_path == NULL || name_or_path[0] == '\0' || out == NULL)
        return p11_err_set(P11_R_BAD_ARGUMENT, "p11_module_get: no module named");
    rv = module_resolve(name_or_path, &path);
    if (rv != CKR_OK)
        return rv;
    p11_gate_init();
    p11_gate_get();
    pthread_mutex_lock(&modules_lock);
    for (m = modules; m != NULL; m = m->next)
        if (strcmp(m->path, path) == 0)
            break;
    if (m != NULL) {
        /* one C_Initialize per process: other init args cannot take effect */
        if ((m->init_args == NULL) != (init_args == NULL) ||
            (init_args != NULL && strcmp(m->init_args, init_args) != 0)) {
            rv = p11_err_set(P11_R_BAD_ARGUMENT,
                             "module '%s' is already initialized with other init args", path);
            m = NULL;
        } else {
            m->refs++;
            rv = CKR_OK;
        }
    } else {
        rv = module_new(path, init_args, &m);
        if (rv == CKR_OK) {
            m->next = modules;
            modules = m;
        }
    }
    pthread_mutex_unlock(&modules_lock);
    p11_gate_put();
    free(path);
    if (rv == CKR_OK)
        rv = p11_module_check(m);
    *out = rv == CKR_OK ? m : NULL;
    return rv;
}

p11_module *p11_module_ref(p11_module *m)
{
    p11_gate_get();
    pthread_mutex_lock(&modules_lock);
    m->refs++;
    pthread_mutex_unlock(&modules_lock);
    p11_gate_put();
    return m;
}

void p11_module_put(p11_module *m)
{
    p11_module **pp;

    if (m == NULL)
        return;
    p11_gate_get();
    pthread_mutex_lock(&modules_lock);
    if (--m->refs > 0) {
        pthread_mutex_unlock(&modules_lock);
        p11_gate_put();
        return;
    }
    for (pp = &modules; *pp != NULL; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    pthread_mutex_unlock(&modules_lock);
    module_free(m);
    p11_gate_put();
}

/* In a child after fork() every handle of the parent is void (PKCS#11 v2.40 section 6.6):
 * initialize again. Some modules (SoftHSM 2.6.1) still think they are initialized in the child
 * and keep the parent's state: finalize them first. */
static CK_RV module_reinitialize(p11_module *m)
{
    CK_RV rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;

    if (!(m->quirks & P11_QUIRK_FORK_FINALIZE))
        rv = module_initialize(m);
    if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        m->f->C_Finalize(NULL); /* the child's copy of the parent's state, not the parent's */
        rv = module_initialize(m);
    }
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
        return p11_err_set(rv, "C_Initialize of module '%s' in a child process", m->path);
    m->we_initialized = 1;
    return CKR_OK;
}

/* The child's other threads are gone, but those of the process may be many: the gate held
 * exclusively lets one thread re-initialize while the others wait outside the module. */
CK_RV p11_module_check(p11_module *m)
{
    pid_t pid = getpid();
    CK_RV rv;

    if (m->pid == pid)
        return CKR_OK;
    rv = p11_gate_lock();
    if (rv != CKR_OK)
        return rv;
    if (m->pid != pid) {
        rv = module_reinitialize(m);
        if (rv == CKR_OK) {
            m->pid = pid;
            atomic_fetch_add(&m->generation, 1);
        }
    }
    p11_gate_unlock();
    return rv;
}

/* Exclusive: C_Finalize ends every session of the process (section 5.4), so no other thread
 * may be in one; they queue at the gate and find the new generation when they get in. */
CK_RV p11_module_reload(p11_module *m, unsigned long gen)
{
    CK_RV rv = p11_gate_lock();

    if (rv != CKR_OK)
        return rv;
    if (atomic_load(&m->generation) != gen)
        goto end; /* another thread reloaded while we waited */
    m->f->C_Finalize(NULL);
    rv = module_initialize(m);
    if (rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        m->we_initialized = 1;
        atomic_fetch_add(&m->generation, 1);
        rv = CKR_OK;
    } else {
        p11_err_set(rv, "C_Initialize of module '%s' (reload)", m->path);
    }
end:
    p11_gate_unlock();
    return rv;
}

int p11_module_read_race_retry(p11_module *m, int attempt, unsigned long gen, CK_RV rv)
{
    char why[256];

    /* A nested call cannot reload (its own gate would wait for itself). */
    if (attempt >= P11_READ_RACE_TRIES || !p11_quirks_read_race(m, rv) || p11_gate_held())
        return 0;
    snprintf(why, sizeof(why), "%s", p11_err_detail());
    usleep(P11_READ_RACE_WAIT_US);
    if (p11_module_reload(m, gen) == CKR_OK)
        return 1;
    /* p11_err_set appends ": CKR_..." itself: drop the one already in why. */
    p11_err_set(rv, "%.*s", (int)(strrchr(why, ':') ? strrchr(why, ':') - why : 0), why);
    return 0;
}

unsigned long p11_module_generation(const p11_module *m)
{
    return atomic_load(&((p11_module *)m)->generation);
}

const char *p11_module_path(const p11_module *m)
{
    return m->path;
}

const char *p11_module_description(const p11_module *m)
{
    return m->description;
}

void p11_module_hold(void)
{
    p11_gate_init();
    p11_gate_get();
}

void p11_module_release(void)
{
    p11_gate_put();
}
