/* Timed waits under Debian's faketime (libfaketime 0.9.10), preloaded by .ci/faketime-pytest.
 *
 * Python 3.11 waits on a lock with a timeout (Lock.acquire, Event.wait, Queue.get, a future's
 * result, ...) through sem_clockwait(CLOCK_MONOTONIC, deadline). libfaketime fakes the monotonic
 * clock but does not intercept sem_clockwait, so the kernel gets a deadline decades away and the
 * wait never ends. Here the deadline is turned into the time left and waited for with
 * sem_timedwait, which libfaketime does translate. Telling libfaketime not to fake the monotonic
 * clock is no way out: its clock_nanosleep then refuses every time.sleep (EINVAL).
 */
#define _GNU_SOURCE
#include <semaphore.h>
#include <time.h>

#define NS 1000000000LL

int sem_clockwait(sem_t *sem, clockid_t clock, const struct timespec *deadline)
{
    struct timespec now, until;
    long long left;

    clock_gettime(clock, &now);
    left = (long long)(deadline->tv_sec - now.tv_sec) * NS + (deadline->tv_nsec - now.tv_nsec);
    if (left < 0)
        left = 0;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += left / NS;
    until.tv_nsec += left % NS;
    if (until.tv_nsec >= NS) {
        until.tv_sec += 1;
        until.tv_nsec -= NS;
    }
    return sem_timedwait(sem, &until);
}
