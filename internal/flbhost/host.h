/* C side of the test host: the API table Fluent Bit gives plugins, and
 * trampolines that call a plugin's exported symbols through the same
 * function-pointer types Fluent Bit 5.1 uses. */
#ifndef WHIRLPOOL_FLBHOST_H
#define WHIRLPOOL_FLBHOST_H

#include <stddef.h>
#include "flbproxy.h"

/* What Fluent Bit's o_ins / i_ins points to, reduced to what the API reads. */
struct host_instance {
    int kind;
    int log_level;
    int nprops;
    char **keys;
    char **vals;
};

struct flb_api *host_api_create(void);
struct host_instance *host_instance_create(int kind, int log_level, int nprops);
void host_instance_set(struct host_instance *ins, int i, char *key, char *val);
void host_instance_destroy(struct host_instance *ins);

/* Log lines printed through api->log_print, drained by Go. */
char *host_logs_drain(size_t *len);

void host_thread_rename(const char *name);

void *host_dlopen(const char *path, char **err);
void *host_dlsym(void *handle, const char *name);
int host_dlclose(void *handle);

int host_call_pre_register(void *fn, int hot_reloading);
int host_call_register(void *fn, struct flb_plugin_proxy_def *def);
int host_call_init(void *fn, void *plugin);
int host_call_pre_run(void *fn, int hot_reload);
void host_call_pre_exit(void *fn, int hot_reload);
int host_call_flush_ctx(void *fn, void *ctx, const void *data, size_t size, const char *tag, size_t tag_len);
int host_call_flush(void *fn, const void *data, size_t size, const char *tag, size_t tag_len);
int host_call_exit_ctx(void *fn, void *ctx);
int host_call_exit(void *fn);
int host_call_collect_ctx(void *fn, void *ctx, void **data, size_t *size);
int host_call_collect(void *fn, void **data, size_t *size);
int host_call_cleanup_ctx(void *fn, void *ctx, void *data);
int host_call_cleanup(void *fn, void *data);
void host_call_void(void *fn);
void host_call_unregister(void *fn, struct flb_plugin_proxy_def *def);

/* Chunk memory owned by the "engine": copied in, poisoned before free so a
 * plugin that keeps a reference past the call reads garbage, not data. */
void *host_chunk_alloc(const void *src, size_t size);
void host_chunk_free(void *p, size_t size);
void host_free(void *p);

/* Layout facts the tests pin against Fluent Bit's headers. */
size_t host_offset_def_event_type(void);
size_t host_offset_def_name(void);
size_t host_size_def(void);
size_t host_offset_input_remote_context(void);
size_t host_offset_output_remote_context(void);
size_t host_offset_api_log_print(void);
size_t host_offset_api_output_log_check(void);
size_t host_offset_plugin_context(void);
#endif
