/* lease_parse and lease_time_parse on arbitrary bytes; a Lease that parses
 * is written back with lease_json and must read back the same, and the
 * verdict and the user's text must hold for it: no crash, no over-read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    long long ms;
    if (lease_time_parse(s, size, &ms) == 0) {
        char t[40];
        long long back;
        if (ms >= 0 && (lease_time_fmt(ms, t, sizeof t) < 0 ||
                        lease_time_parse(t, strlen(t), &back) < 0 || back != ms))
            abort();
    }
    struct lease_rec r, again;
    if (lease_parse(s, size, &r) < 0) return 0;
    if (strlen(r.holder) > LEASE_HOLDER_MAX || strlen(r.rv) > LEASE_RV_MAX) abort();
    enum lease_state st = lease_state(&r, "pod-a", 1796031612000LL, 60);
    if (st != LEASE_FREE && st != LEASE_EXPIRED && st != LEASE_MINE && st != LEASE_HELD) abort();
    static char text[1024], js[4096];
    lease_busy_text(&r, "default/api", text, sizeof text);
    if (strlen(text) >= sizeof text) abort();
    /* times before 1970 are not written back; the rest must round-trip */
    if (r.acquire_ms < 0 || r.renew_ms < 0) return 0;
    long n = lease_json(js, sizeof js, "ops", "deploy-api.default.api", &r);
    if (n < 0) return 0;
    if (lease_parse(js, (size_t)n, &again) < 0) abort();
    if (strcmp(again.holder, r.holder) != 0 || strcmp(again.rv, r.rv) != 0 ||
        again.duration_s != r.duration_s || again.acquire_ms != r.acquire_ms ||
        again.renew_ms != r.renew_ms || again.transitions != r.transitions)
        abort();
    return 0;
}
