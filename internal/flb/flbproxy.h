/*
 * Fluent Bit 5.1 Go proxy ABI, as the engine lays it out (src/proxy/go/go.h,
 * include/fluent-bit/flb_plugin_proxy.h, include/fluent-bit/flb_api.h).
 * fluent-bit-go's headers model an older, output-only subset; these are the
 * layouts that run. Shared by the plugin glue and the test host so that both
 * sides agree, and pinned by offset tests in internal/flbhost.
 */
#ifndef WHIRLPOOL_FLBPROXY_H
#define WHIRLPOOL_FLBPROXY_H

#include <stddef.h>
#include <stdint.h>

#define FLB_PROXY_INPUT_PLUGIN  1
#define FLB_PROXY_OUTPUT_PLUGIN 2
#define FLB_PROXY_CUSTOM_PLUGIN 3
#define FLB_PROXY_GOLANG        11

#define FLB_ERROR 0
#define FLB_OK    1
#define FLB_RETRY 2

/* Log levels of log_print and the log checks. */
#define FLB_LOG_ERROR 1
#define FLB_LOG_WARN  2
#define FLB_LOG_INFO  3
#define FLB_LOG_DEBUG 4
#define FLB_LOG_TRACE 5

/* Config map entry types (flb_config_map.h). Whirlpool registers every
 * property as a string: the plugin parses and bounds its own values, and the
 * engine only checks the names. */
#define FLB_CONFIG_MAP_STR 0

/* A doubly linked list node (monkey's mk_list). */
struct flb_mk_list {
    struct flb_mk_list *prev, *next;
};

/* One config map entry, laid out as include/fluent-bit/flb_config_map.h of
 * Fluent Bit 5.1. A plugin fills the public fields of a {0}-terminated array;
 * the engine copies name and default, keeps desc by reference, and fills the
 * rest in its own copy. */
struct flb_config_map {
    int type;
    char *name;
    char *def_value;
    int flags;
    int set_property;
    uintptr_t offset;
    char *desc;
    /* struct flb_config_map_val: a union of at most 8 bytes, raw, mult. */
    struct {
        union { int i_num; int boolean; double d_num; size_t s_num; void *ptr; } val;
        char *raw;
        struct flb_mk_list *mult;
        struct flb_mk_list _head;
    } value;
    struct flb_mk_list _head;
};

/* Filled by FLBPluginRegister. */
struct flb_plugin_proxy_def {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
    int event_type;
    struct flb_config_map *config_map;
};

/* The API table handed to every instance, in this order. */
struct flb_api {
    char *(*output_get_property) (char *, void *);
    char *(*input_get_property) (char *, void *);
    void *(*output_get_cmt_instance) (void *);
    void *(*input_get_cmt_instance) (void *);
    void (*log_print) (int, const char *, int, const char *, ...);
    int (*input_log_check) (void *, int);
    int (*output_log_check) (void *, int);
    char *(*custom_get_property) (char *, void *);
    int (*custom_log_check) (void *, int);
};

/* Output instance context: remote_context at offset 0. */
struct flb_plugin_proxy_context {
    void *remote_context;
    void *proxy;
};

/* Input instance context: remote_context at offset 8. */
struct flb_plugin_input_proxy_context {
    int coll_fd;
    void *remote_context;
    void *proxy;
};

/* What FLBPluginInit receives for an output. */
struct flbgo_output_plugin {
    char *name;
    struct flb_api *api;
    void *o_ins;
    struct flb_plugin_proxy_context *context;

    int (*cb_init)(struct flbgo_output_plugin *);
    int (*cb_flush)(const void *, size_t, const char *);
    int (*cb_flush_ctx)(void *, const void *, size_t, char *);
    int (*cb_exit)(void);
    int (*cb_exit_ctx)(void *);
};

/* What FLBPluginInit receives for an input. */
struct flbgo_input_plugin {
    char *name;
    struct flb_api *api;
    void *i_ins;
    struct flb_plugin_input_proxy_context *context;

    int (*cb_init)(struct flbgo_input_plugin *);
    int (*cb_collect)(void **, size_t *);
    int (*cb_collect_ctx)(void *, void **, size_t *);
    int (*cb_cleanup)(void *);
    int (*cb_cleanup_ctx)(void *, void *);
    int (*cb_exit)(void);
};

#endif
