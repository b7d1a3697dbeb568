/* engine/mapguard.c — the SIGBUS handler that absorbs faults inside mapped model files (see
 * mapguard.h). Slots are atomics the handler reads without locks; add/remove hold a mutex.
 * mmap is not on POSIX's list of async-signal-safe functions, but on Linux it is one system
 * call with no user-space state (the JVM and others use it from fault handlers the same way). */
#define _GNU_SOURCE
#include "mapguard.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct mapguard_slot {
    atomic_uintptr_t base; /* 0: free */
    atomic_size_t len;
    _Atomic(atomic_int *) broken;
};

static struct mapguard_slot mapguard_slots[MAPGUARD_SLOTS];
static pthread_mutex_t mapguard_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction mapguard_prev; /* the SIGBUS action before ours */

static void mapguard_on_sigbus(int sig, siginfo_t *si, void *uc) {
    uintptr_t a = (uintptr_t)si->si_addr;
    for (int i = 0; i < MAPGUARD_SLOTS; i++) {
        struct mapguard_slot *s = &mapguard_slots[i];
        uintptr_t base = atomic_load(&s->base);
        size_t len = atomic_load(&s->len);
        if (!base || a < base || a - base >= len)
            continue;
        /* zeros over the whole range: this read and every later one complete */
        void *p = mmap((void *)base, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                       -1, 0);
        if (p == MAP_FAILED)
            break;
        atomic_int *flag = atomic_load(&s->broken);
        if (flag)
            atomic_store(flag, 1);
        return;
    }
    /* not ours: the previous action takes it (the fault happens again on return, or the sent
     * signal is raised again) */
    sigaction(SIGBUS, &mapguard_prev, NULL);
    if (si->si_code <= 0)
        raise(sig);
    (void)uc;
}

/* Installs the handler unless it is in place; keeps what it replaces. Caller holds the lock. */
static void mapguard_install(void) {
    struct sigaction cur;
    if (sigaction(SIGBUS, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
        cur.sa_sigaction == mapguard_on_sigbus)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_sigaction = mapguard_on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGBUS, &sa, &mapguard_prev);
}

int mapguard_range_add(const void *base, size_t len, atomic_int *broken) {
    int r = -1;
    pthread_mutex_lock(&mapguard_lock);
    mapguard_install();
    for (int i = 0; i < MAPGUARD_SLOTS; i++) {
        struct mapguard_slot *s = &mapguard_slots[i];
        if (atomic_load(&s->base))
            continue;
        long page = sysconf(_SC_PAGESIZE);
        size_t pg = page > 0 ? (size_t)page : 4096;
        atomic_store(&s->len, (len + pg - 1) / pg * pg);
        atomic_store(&s->broken, broken);
        atomic_store(&s->base, (uintptr_t)base); /* last: the slot is complete when seen */
        r = 0;
        break;
    }
    pthread_mutex_unlock(&mapguard_lock);
    return r;
}

void mapguard_thread_unblock(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGBUS);
    sigaddset(&s, SIGSEGV);
    sigaddset(&s, SIGFPE);
    sigaddset(&s, SIGILL);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
}

void mapguard_range_remove(const void *base) {
    pthread_mutex_lock(&mapguard_lock);
    for (int i = 0; i < MAPGUARD_SLOTS; i++)
        if (atomic_load(&mapguard_slots[i].base) == (uintptr_t)base) {
            atomic_store(&mapguard_slots[i].base, 0);
            atomic_store(&mapguard_slots[i].broken, NULL);
        }
    pthread_mutex_unlock(&mapguard_lock);
}
