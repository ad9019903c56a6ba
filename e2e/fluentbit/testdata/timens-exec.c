/*
 * timens-exec NANOSECONDS COMMAND [ARG...]: run COMMAND with its monotonic
 * clock NANOSECONDS ahead of this machine's, in a new time namespace
 * (Linux 5.6+, root). Fluent Bit starts its timers on whole seconds of the
 * monotonic clock, so two Fluent Bits on one machine tick together; this
 * lets a benchmark give one of them the phase a separate node would have.
 * The command replaces this process (same pid), so signals reach it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char *end;
    long ns;
    int fd;

    if (argc < 3) {
        fprintf(stderr, "usage: %s NANOSECONDS COMMAND [ARG...]\n", argv[0]);
        return 2;
    }
    ns = strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || ns < 0 || ns > 999999999) {
        fprintf(stderr, "timens-exec: NANOSECONDS must be 0 to 999999999, not %s\n", argv[1]);
        return 2;
    }
    if (unshare(CLONE_NEWTIME) != 0) {
        perror("timens-exec: unshare(CLONE_NEWTIME)");
        return 111;
    }
    /* Offsets can be set only before a process enters the namespace. */
    fd = open("/proc/self/timens_offsets", O_WRONLY);
    if (fd < 0 || dprintf(fd, "monotonic 0 %ld\n", ns) < 0 || close(fd) != 0) {
        perror("timens-exec: /proc/self/timens_offsets");
        return 111;
    }
    /* unshare moves only this process's children: enter it ourselves. */
    fd = open("/proc/self/ns/time_for_children", O_RDONLY);
    if (fd < 0 || setns(fd, CLONE_NEWTIME) != 0) {
        perror("timens-exec: setns");
        return 111;
    }
    close(fd);
    execvp(argv[2], argv + 2);
    perror("timens-exec: exec");
    return 111;
}
