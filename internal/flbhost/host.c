#include <dlfcn.h>
#include <sys/prctl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "host.h"

/* Like flb_kv_get_key_value: the first property whose key matches,
 * case-insensitively. The Go side stores only what the engine hands on to the
 * plugin (core keys are consumed) and NULL for an empty value. */
static char *get_property(char *key, void *p) {
    struct host_instance *ins = p;
    if (!ins || !key || !*key) return NULL;
    for (int i = 0; i < ins->nprops; i++) {
        if (strcasecmp(ins->keys[i], key) == 0) return ins->vals[i];
    }
    return NULL;
}

static void *get_cmt_instance(void *p) { (void) p; return NULL; }

static int log_check(void *p, int level) {
    struct host_instance *ins = p;
    return ins && ins->log_level >= level;
}

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char *log_buf = NULL;
static size_t log_len = 0, log_cap = 0;

static const char *level_name(int level) {
    switch (level) {
    case FLB_LOG_ERROR: return "error";
    case FLB_LOG_WARN: return "warn";
    case FLB_LOG_INFO: return "info";
    case FLB_LOG_DEBUG: return "debug";
    case FLB_LOG_TRACE: return "trace";
    }
    return "?";
}

/* Like flb_log_print: variadic, printf-style, thread-safe. */
static void log_print(int level, const char *file, int line, const char *fmt, ...) {
    char msg[8192];
    char out[8400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int n = snprintf(out, sizeof(out), "[%s] %s\n", level_name(level), msg);
    if (n < 0) return;
    if ((size_t) n >= sizeof(out)) n = sizeof(out) - 1;
    (void) file; (void) line;
    if (getenv("FLBHOST_VERBOSE")) fputs(out, stderr);
    pthread_mutex_lock(&log_mu);
    if (log_len + n + 1 > log_cap) {
        size_t cap = log_cap ? log_cap * 2 : 65536;
        while (cap < log_len + n + 1) cap *= 2;
        log_buf = realloc(log_buf, cap);
        log_cap = cap;
    }
    memcpy(log_buf + log_len, out, n);
    log_len += n;
    pthread_mutex_unlock(&log_mu);
}

char *host_logs_drain(size_t *len) {
    pthread_mutex_lock(&log_mu);
    char *b = log_buf;
    *len = log_len;
    log_buf = NULL;
    log_len = log_cap = 0;
    pthread_mutex_unlock(&log_mu);
    return b;
}

struct flb_api *host_api_create(void) {
    struct flb_api *api = calloc(1, sizeof(struct flb_api));
    api->output_get_property = get_property;
    api->input_get_property = get_property;
    api->output_get_cmt_instance = get_cmt_instance;
    api->input_get_cmt_instance = get_cmt_instance;
    api->log_print = log_print;
    api->input_log_check = log_check;
    api->output_log_check = log_check;
    api->custom_get_property = get_property;
    api->custom_log_check = log_check;
    return api;
}

struct host_instance *host_instance_create(int kind, int log_level, int nprops) {
    struct host_instance *ins = calloc(1, sizeof(*ins));
    ins->kind = kind;
    ins->log_level = log_level;
    ins->nprops = nprops;
    ins->keys = calloc(nprops + 1, sizeof(char *));
    ins->vals = calloc(nprops + 1, sizeof(char *));
    return ins;
}

void host_instance_set(struct host_instance *ins, int i, char *key, char *val) {
    ins->keys[i] = key;
    ins->vals[i] = val;
}

void host_instance_destroy(struct host_instance *ins) {
    for (int i = 0; i < ins->nprops; i++) {
        free(ins->keys[i]);
        free(ins->vals[i]);
    }
    free(ins->keys);
    free(ins->vals);
    free(ins);
}

/* mk_utils_worker_rename: prctl(PR_SET_NAME), which Linux truncates to 15
 * characters. */
void host_thread_rename(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

void *host_dlopen(const char *path, char **err) {
    /* Fluent Bit opens proxies with RTLD_LAZY. */
    void *h = dlopen(path, RTLD_LAZY);
    if (!h) *err = strdup(dlerror());
    return h;
}

void *host_dlsym(void *handle, const char *name) {
    dlerror();
    void *s = dlsym(handle, name);
    if (dlerror() != NULL) return NULL;
    return s;
}

int host_dlclose(void *handle) { return dlclose(handle); }

int host_call_pre_register(void *fn, int hot) { return ((int (*)(int)) fn)(hot); }
int host_call_register(void *fn, struct flb_plugin_proxy_def *def) {
    return ((int (*)(struct flb_plugin_proxy_def *)) fn)(def);
}
int host_call_init(void *fn, void *plugin) { return ((int (*)(void *)) fn)(plugin); }
int host_call_pre_run(void *fn, int hot) { return ((int (*)(int)) fn)(hot); }
void host_call_pre_exit(void *fn, int hot) { ((void (*)(int)) fn)(hot); }

/* Fluent Bit passes a NUL-terminated copy of the tag, freed after the call. */
static char *tag_copy(const char *tag, size_t len) {
    char *buf = malloc(len + 1);
    memcpy(buf, tag, len);
    buf[len] = '\0';
    return buf;
}

int host_call_flush_ctx(void *fn, void *ctx, const void *data, size_t size, const char *tag, size_t tag_len) {
    char *t = tag_copy(tag, tag_len);
    int ret = ((int (*)(void *, const void *, size_t, char *)) fn)(ctx, data, size, t);
    memset(t, 0, tag_len);
    free(t);
    return ret;
}

int host_call_flush(void *fn, const void *data, size_t size, const char *tag, size_t tag_len) {
    char *t = tag_copy(tag, tag_len);
    int ret = ((int (*)(const void *, size_t, const char *)) fn)(data, size, t);
    memset(t, 0, tag_len);
    free(t);
    return ret;
}

int host_call_exit_ctx(void *fn, void *ctx) { return ((int (*)(void *)) fn)(ctx); }
int host_call_exit(void *fn) { return ((int (*)(void)) fn)(); }
int host_call_collect_ctx(void *fn, void *ctx, void **data, size_t *size) {
    return ((int (*)(void *, void **, size_t *)) fn)(ctx, data, size);
}
int host_call_collect(void *fn, void **data, size_t *size) {
    return ((int (*)(void **, size_t *)) fn)(data, size);
}
int host_call_cleanup_ctx(void *fn, void *ctx, void *data) { return ((int (*)(void *, void *)) fn)(ctx, data); }
int host_call_cleanup(void *fn, void *data) { return ((int (*)(void *)) fn)(data); }
void host_call_void(void *fn) { ((void (*)(void)) fn)(); }
void host_call_unregister(void *fn, struct flb_plugin_proxy_def *def) {
    ((void (*)(struct flb_plugin_proxy_def *)) fn)(def);
}

void *host_chunk_alloc(const void *src, size_t size) {
    void *p = malloc(size ? size : 1);
    if (size) memcpy(p, src, size);
    return p;
}

void host_chunk_free(void *p, size_t size) {
    memset(p, 0xA5, size);
    /* keep the compiler from dropping the store before free() */
    __asm__ __volatile__("" : : "r"(p) : "memory");
    free(p);
}

void host_free(void *p) { free(p); }

size_t host_offset_def_event_type(void) { return offsetof(struct flb_plugin_proxy_def, event_type); }
size_t host_offset_def_name(void) { return offsetof(struct flb_plugin_proxy_def, name); }
size_t host_size_def(void) { return sizeof(struct flb_plugin_proxy_def); }
size_t host_offset_input_remote_context(void) { return offsetof(struct flb_plugin_input_proxy_context, remote_context); }
size_t host_offset_output_remote_context(void) { return offsetof(struct flb_plugin_proxy_context, remote_context); }
size_t host_offset_api_log_print(void) { return offsetof(struct flb_api, log_print); }
size_t host_offset_api_output_log_check(void) { return offsetof(struct flb_api, output_log_check); }
size_t host_offset_plugin_context(void) { return offsetof(struct flbgo_output_plugin, context); }
