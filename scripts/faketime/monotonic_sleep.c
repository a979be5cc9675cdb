/*
 * Sleeps on the monotonic clock go straight to the kernel; everything else goes on
 * to libfaketime. Loaded before libfaketime by scripts/with-faketime.
 *
 * Why: with FAKETIME_DONT_FAKE_MONOTONIC=1 (needed, or waits on the monotonic clock
 * such as pytest-xdist's hang: they compute a deadline on the shifted clock and the
 * kernel waits for it), Debian's libfaketime 0.9.10 still shifts the absolute
 * deadline that clock_nanosleep() is given on the monotonic clock. Python's
 * time.sleep() uses exactly that call, so every sleep failed with EINVAL (shift into
 * the future) or hung (shift into the past). The monotonic clock is not faked, so
 * its sleeps need no translation.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *request,
                    struct timespec *remain)
{
    static int (*faked)(clockid_t, int, const struct timespec *, struct timespec *);

    if (clock != CLOCK_REALTIME && clock != CLOCK_TAI)
        /* clock_nanosleep returns the error number rather than setting errno. */
        return syscall(SYS_clock_nanosleep, clock, flags, request, remain) == 0 ? 0 : errno;
    if (!faked)
        faked = (int (*)(clockid_t, int, const struct timespec *, struct timespec *))
            dlsym(RTLD_NEXT, "clock_nanosleep");
    return faked(clock, flags, request, remain);
}
