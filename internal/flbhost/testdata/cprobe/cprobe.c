/* A plugin written in C against Fluent Bit's documented ABI, independent of
 * Whirlpool's Go glue: it appends one line per call to $CPROBE_LOG so the
 * host tests can check the call order, the arguments, the threads and the
 * struct layouts the host hands out. $CPROBE_TYPE picks input or output. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct def { int type; int proxy; int flags; char *name; char *description; int event_type; void *config_map; };
struct api {
    char *(*output_get_property) (char *, void *);
    char *(*input_get_property) (char *, void *);
    void *(*output_get_cmt_instance) (void *);
    void *(*input_get_cmt_instance) (void *);
    void (*log_print) (int, const char *, int, const char *, ...);
    int (*input_log_check) (void *, int);
    int (*output_log_check) (void *, int);
};
struct plugin { char *name; struct api *api; void *ins; void *context; };

static int is_input(void) { const char *t = getenv("CPROBE_TYPE"); return t && strcmp(t, "input") == 0; }

static void event(const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 32, fmt, ap);
    va_end(ap);
    n += snprintf(line + n, 32, " tid=%ld\n", (long) syscall(SYS_gettid));
    int fd = open(getenv("CPROBE_LOG"), O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd >= 0) { write(fd, line, n); close(fd); }
}

static struct api *api;
static void *ins_ptr;
static int instances;

int FLBPluginPreRegister(int hot) { event("pre_register hot=%d", hot); return 0; }

int FLBPluginRegister(struct def *d) {
    d->type = is_input() ? 1 : 2;
    d->proxy = 11;
    d->name = "cprobe";
    d->description = "C probe";
    event("register");
    return 0;
}

int FLBPluginInit(struct plugin *p) {
    api = p->api;
    ins_ptr = p->ins;
    long id = ++instances;
    char *v = (is_input() ? api->input_get_property : api->output_get_property)("Probe_Key", p->ins);
    char *core = (is_input() ? api->input_get_property : api->output_get_property)("log_level", p->ins);
    int dbg = (is_input() ? api->input_log_check : api->output_log_check)(p->ins, 4);
    /* The remote context: offset 8 of the input context, offset 0 for outputs. */
    if (is_input()) *(void **) ((char *) p->context + 8) = (void *) id;
    else *(void **) p->context = (void *) id;
    api->log_print(3, __FILE__, __LINE__, "cprobe %s=%d", "init", (int) id);
    event("init name=%s id=%ld prop=%s core=%s debug=%d", p->name, id, v ? v : "(null)", core ? core : "(null)", dbg);
    return strcmp(v ? v : "", "fail") == 0 ? 0 : 1;
}

int FLBPluginOutputPreRun(int hot) { event("output_pre_run hot=%d", hot); return 0; }
int FLBPluginInputPreRun(int hot) { event("input_pre_run hot=%d", hot); return 0; }

int FLBPluginFlushCtx(void *ctx, const void *data, int size, char *tag) {
    event("flush_ctx ctx=%ld size=%d tag=%s first=%02x", (long) ctx, size, tag, size ? ((unsigned char *) data)[0] : 0);
    return (int) (long) ctx == 2 ? 2 : 1;
}

void FLBPluginOutputPreExit(int hot) { event("output_pre_exit hot=%d", hot); }
int FLBPluginExitCtx(void *ctx) { event("exit_ctx ctx=%ld", (long) ctx); return 1; }

static int seq;
int FLBPluginInputCallbackCtx(void *ctx, void **data, size_t *size) {
    seq++;
    if (seq % 2 == 0) { /* every other collect: nothing */
        *data = NULL; *size = 0;
        event("collect_ctx ctx=%ld size=0", (long) ctx);
        return 0;
    }
    /* one record [[ext0, {}], {"n": seq}] */
    unsigned char rec[] = {0x92, 0x92, 0xd7, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, 0x80, 0x81, 0xa1, 'n', (unsigned char) seq};
    void *buf = malloc(sizeof(rec));
    memcpy(buf, rec, sizeof(rec));
    *data = buf; *size = sizeof(rec);
    event("collect_ctx ctx=%ld size=%zu buf=%p", (long) ctx, sizeof(rec), buf);
    return 0;
}

int FLBPluginInputCleanupCallbackCtx(void *ctx, void *data) {
    event("cleanup_ctx ctx=%ld buf=%p", (long) ctx, data);
    free(data);
    return 0;
}

void FLBPluginInputPause(void) { event("pause"); }
void FLBPluginInputResume(void) { event("resume"); }
void FLBPluginInputPreExit(int hot) { event("input_pre_exit hot=%d", hot); }
int FLBPluginExit(void) { event("exit"); return 1; }
void FLBPluginUnregister(struct def *d) { event("unregister name=%s", d->name); }
