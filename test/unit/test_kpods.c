/* Unit tests of issue 9's pure parts: src/kpods.c (why the new pods are not
 * Ready, counted), krs.c's page-by-page history (kubectl's revision
 * counting, the newest N, live and creation times) and progress.c's text. */
#include "../../src/kpods.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/krs.h"
#include "../../src/progress.h"
#include "../../src/respond.h"
#include "t.h"

/* ---- pods ---- */

#define OWNER                                                                                      \
    "\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"uid\":\"rs-new\",\"controller\":true}]"

/* One pod object: its status JSON, owned by rs-new unless owner is given. */
static void pod(char *buf, size_t cap, const char *owner, const char *status)
{
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s{\"metadata\":{\"name\":\"p%zu\",%s},\"status\":%s}",
             n && buf[n - 1] != '[' ? "," : "", n, owner ? owner : OWNER, status);
}

static const char CRASH[] =
    "{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}],"
    "\"containerStatuses\":[{\"name\":\"app\",\"ready\":false,\"state\":{\"waiting\":{\"reason\":"
    "\"CrashLoopBackOff\",\"message\":\"back-off 40s restarting failed container\"}},"
    "\"lastState\":{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\",\"message\":\"panic: "
    "DATABASE_URL unset\\n\"}}}]}";
static const char PULL[] =
    "{\"phase\":\"Pending\",\"containerStatuses\":[{\"name\":\"app\",\"state\":{\"waiting\":{"
    "\"reason\":\"ImagePullBackOff\",\"message\":\"Back-off pulling image \\\"r/app:9\\\"\"}}}]}";
static const char ERRPULL[] =
    "{\"phase\":\"Pending\",\"containerStatuses\":[{\"name\":\"app\",\"state\":{\"waiting\":{"
    "\"reason\":\"ErrImagePull\",\"message\":\"rpc error: not found\"}}}]}";
static const char CONFIG[] =
    "{\"phase\":\"Pending\",\"containerStatuses\":[{\"name\":\"app\",\"state\":{\"waiting\":{"
    "\"reason\":\"CreateContainerConfigError\",\"message\":\"secret \\\"db\\\" not found\"}}}]}";
static const char UNSCHED[] =
    "{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\","
    "\"reason\":\"Unschedulable\",\"message\":\"0/3 nodes are available: 3 Insufficient "
    "cpu.\"}]}";
static const char READY[] =
    "{\"phase\":\"Running\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"},{"
    "\"type\":\"Ready\",\"status\":\"True\"}],\"containerStatuses\":[{\"name\":\"app\",\"ready\":"
    "true,\"state\":{\"running\":{}}}]}";
static const char INIT_FAIL[] =
    "{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"name\":\"migrate\",\"state\":{"
    "\"terminated\":{\"exitCode\":3,\"reason\":\"Error\",\"message\":\"no such table\"}}}],"
    "\"containerStatuses\":[{\"name\":\"app\",\"state\":{\"waiting\":{\"reason\":"
    "\"PodInitializing\"}}}]}";

static char *list(char *buf, size_t cap, const char *cont)
{
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "],\"metadata\":{\"continue\":\"%s\"}}", cont);
    return buf;
}

#define LIST_HEAD "{\"kind\":\"PodList\",\"items\":["

static void add_page(struct kpods_tally *t, const char *js, char *cont, size_t ccap, int want)
{
    CHECK_EQ(kpods_add_page(t, js, strlen(js), cont, ccap), want);
}

TEST(each_waiting_state)
{
    static char js[16384];
    char out[2048], cont[64];
    struct kpods_tally t;
    snprintf(js, sizeof js, LIST_HEAD);
    pod(js, sizeof js, NULL, CRASH);
    pod(js, sizeof js, NULL, CRASH);
    pod(js, sizeof js, NULL, READY);
    list(js, sizeof js, "");
    kpods_init(&t, "rs-new");
    add_page(&t, js, cont, sizeof cont, 0);
    CHECK_STR(cont, "");
    CHECK_EQ(t.pods, 3);
    CHECK_EQ(t.ready, 1);
    kpods_text(&t, out, sizeof out);
    CHECK_STR(out, "2 of 3 new pods: CrashLoopBackOff, exit 1: panic: DATABASE_URL unset");

    struct {
        const char *status, *want;
    } one[] = {
        {PULL, "1 of 1 new pods: ImagePullBackOff: Back-off pulling image \"r/app:9\""},
        {ERRPULL, "1 of 1 new pods: ErrImagePull: rpc error: not found"},
        {CONFIG, "1 of 1 new pods: CreateContainerConfigError: secret \"db\" not found"},
        {UNSCHED, "1 of 1 new pods: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu."},
        {INIT_FAIL, "1 of 1 new pods: Error, exit 3: no such table"},
        {"{\"phase\":\"Running\"}", "1 of 1 new pods: Running, not Ready"},
        {"{}", "1 of 1 new pods: Pending"},
        {READY, ""},
        {"{\"phase\":\"Succeeded\"}", ""},
    };
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
        snprintf(js, sizeof js, LIST_HEAD);
        pod(js, sizeof js, NULL, one[i].status);
        list(js, sizeof js, "");
        kpods_init(&t, "rs-new");
        add_page(&t, js, cont, sizeof cont, 0);
        kpods_text(&t, out, sizeof out);
        if (strcmp(out, one[i].want) != 0) printf("  row %zu: %s\n", i, out);
        CHECK_STR(out, one[i].want);
    }
}

/* Pods of other ReplicaSets (same hash label on another deployment, or an
 * owner that is not the controller) do not count. */
TEST(owner_filter_and_pages)
{
    static char js[16384];
    char out[2048], cont[64];
    struct kpods_tally t;
    kpods_init(&t, "rs-new");
    snprintf(js, sizeof js, LIST_HEAD);
    pod(js, sizeof js, NULL, PULL);
    pod(js, sizeof js, "\"ownerReferences\":[{\"uid\":\"rs-other\",\"controller\":true}]", PULL);
    pod(js, sizeof js, "\"ownerReferences\":[{\"uid\":\"rs-new\",\"controller\":false}]", PULL);
    pod(js, sizeof js, "\"labels\":{}", PULL);
    list(js, sizeof js, "tok-2");
    add_page(&t, js, cont, sizeof cont, 0);
    CHECK_STR(cont, "tok-2");
    CHECK_EQ(t.pods, 1);
    /* the next page adds to the same tally */
    snprintf(js, sizeof js, LIST_HEAD);
    pod(js, sizeof js, NULL, PULL);
    pod(js, sizeof js, NULL, UNSCHED);
    list(js, sizeof js, "");
    add_page(&t, js, cont, sizeof cont, 0);
    CHECK_STR(cont, "");
    kpods_text(&t, out, sizeof out);
    CHECK_STR(out, "2 of 3 new pods: ImagePullBackOff: Back-off pulling image \"r/app:9\"\n"
                   "1 of 3 new pods: Unschedulable: 0/3 nodes are available: 3 Insufficient "
                   "cpu.");
    /* no owner: every pod counts */
    kpods_init(&t, NULL);
    snprintf(js, sizeof js, LIST_HEAD);
    pod(js, sizeof js, "\"labels\":{}", READY);
    list(js, sizeof js, "");
    add_page(&t, js, cont, sizeof cont, 0);
    CHECK_EQ(t.pods, 1);
    CHECK_EQ(t.ready, 1);
    /* a continue token that does not fit ends the listing */
    snprintf(js, sizeof js, LIST_HEAD);
    list(js, sizeof js, "a-continue-token-longer-than-8");
    char small[8];
    add_page(&t, js, small, sizeof small, 0);
    CHECK_STR(small, "");
}

/* KPODS_KINDS distinct problems are kept; one more goes to "other". */
TEST(kinds_at_and_past_the_limit)
{
    static char js[32768];
    char out[4096], cont[64], st[512];
    struct kpods_tally t;
    kpods_init(&t, "rs-new");
    snprintf(js, sizeof js, LIST_HEAD);
    for (int i = 0; i < KPODS_KINDS; i++) {
        snprintf(st, sizeof st,
                 "{\"containerStatuses\":[{\"state\":{\"waiting\":{\"reason\":\"R%d\"}}}]}", i);
        pod(js, sizeof js, NULL, st);
    }
    list(js, sizeof js, "");
    add_page(&t, js, cont, sizeof cont, 0);
    CHECK_EQ(t.nproblems, KPODS_KINDS);
    CHECK_EQ(t.other, 0);
    kpods_text(&t, out, sizeof out);
    CHECK(strstr(out, "other") == NULL);
    snprintf(js, sizeof js, LIST_HEAD);
    pod(js, sizeof js, NULL,
        "{\"containerStatuses\":[{\"state\":{\"waiting\":{\"reason\":\"OneMore\"}}}]}");
    pod(js, sizeof js, NULL,
        "{\"containerStatuses\":[{\"state\":{\"waiting\":{\"reason\":\"R0\"}}}]}");
    list(js, sizeof js, "");
    add_page(&t, js, cont, sizeof cont, 0);
    CHECK_EQ(t.nproblems, KPODS_KINDS);
    CHECK_EQ(t.other, 1);
    kpods_text(&t, out, sizeof out);
    CHECK(strncmp(out, "2 of 6 new pods: R0", 19) == 0); /* most pods first */
    CHECK(strstr(out, "\n1 of 6 new pods: other problems") != NULL);
    /* a small buffer is cut, never overrun */
    char tiny[24];
    size_t n = kpods_text(&t, tiny, sizeof tiny);
    CHECK_EQ(n, strlen(tiny));
    CHECK(n < sizeof tiny);
}

/* Messages are cut to KPODS_LABEL and their control characters are spaces;
 * a message longer than the reader's buffer still shows its start. */
TEST(long_and_hostile_messages)
{
    static char js[16384], st[8192], msg[5000];
    char out[4096], cont[64];
    struct kpods_tally t;
    memset(msg, 'x', sizeof msg - 1);
    msg[sizeof msg - 1] = 0;
    snprintf(st, sizeof st,
             "{\"containerStatuses\":[{\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}},"
             "\"lastState\":{\"terminated\":{\"exitCode\":137,\"message\":\"%s\"}}}]}",
             msg);
    kpods_init(&t, "rs-new");
    snprintf(js, sizeof js, LIST_HEAD);
    pod(js, sizeof js, NULL, st);
    pod(js, sizeof js, NULL,
        "{\"containerStatuses\":[{\"state\":{\"waiting\":{\"reason\":\"Bad\\u0007\",\"message\":"
        "\"a\\r\\nb\\u001b[31m\"}}}]}");
    list(js, sizeof js, "");
    add_page(&t, js, cont, sizeof cont, 0);
    CHECK_EQ(t.nproblems, 2);
    CHECK(strlen(t.p[0].label) < KPODS_LABEL);
    CHECK(strncmp(t.p[0].label, "CrashLoopBackOff, exit 137: xxx", 31) == 0);
    CHECK_STR(t.p[1].label, "Bad: a  b [31m");
    kpods_text(&t, out, sizeof out);
    for (const char *p = out; *p; p++) CHECK(*p == '\n' || (unsigned char)*p >= 0x20);
}

/* Not a PodList, and every prefix of a real one: -1 and the tally untouched. */
TEST(malformed_and_truncated)
{
    static char js[16384];
    char cont[64];
    struct kpods_tally t, before;
    const char *bad[] = {
        "",        "{", "[]", "{}", "{\"items\":{}}", "{\"items\":3}", "null", "{\"items\":[]}x",
        "\xff\xfe"};
    kpods_init(&t, "rs-new");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strcpy(cont, "stale");
        CHECK_EQ(kpods_add_page(&t, bad[i], strlen(bad[i]), cont, sizeof cont), -1);
        CHECK_STR(cont, "");
    }
    CHECK_EQ(t.pods, 0);
    /* items that are not objects are skipped */
    const char *odd = "{\"items\":[1,\"x\",null,[]]}";
    CHECK_EQ(kpods_add_page(&t, odd, strlen(odd), cont, sizeof cont), 0);
    CHECK_EQ(t.pods, 0);
    snprintf(js, sizeof js, LIST_HEAD);
    pod(js, sizeof js, NULL, CRASH);
    pod(js, sizeof js, NULL, UNSCHED);
    list(js, sizeof js, "c");
    size_t n = strlen(js);
    for (size_t k = 0; k < n; k++) {
        char *g = t_guard(js, k);
        kpods_init(&t, "rs-new");
        before = t;
        if (kpods_add_page(&t, g, k, cont, sizeof cont) != -1) {
            printf("  prefix %zu parsed\n", k);
            CHECK(0);
        }
        CHECK(memcmp(&t, &before, sizeof t) == 0);
        t_unguard(g, k);
    }
    char *g = t_guard(js, n);
    CHECK_EQ(kpods_add_page(&t, g, n, cont, sizeof cont), 0);
    CHECK_EQ(t.pods, 2);
    t_unguard(g, n);
}

/* ---- history, page by page ---- */

/* One ReplicaSet of the deployment (uid-web) with revision rev ("" leaves
 * the annotation out), creation time and optional live-at. */
static void rs(char *buf, size_t cap, const char *rev, const char *created, const char *live,
               const char *uid)
{
    size_t n = strlen(buf);
    char ann[256] = "";
    if (rev[0]) snprintf(ann, sizeof ann, "\"deployment.kubernetes.io/revision\":\"%s\"", rev);
    if (live)
        snprintf(ann + strlen(ann), sizeof ann - strlen(ann), "%s\"deploy-api/live-at\":\"%s\"",
                 ann[0] ? "," : "", live);
    snprintf(buf + n, cap - n,
             "%s{\"metadata\":{\"name\":\"web-%s\",\"creationTimestamp\":\"%s\","
             "\"annotations\":{%s},\"ownerReferences\":[{\"uid\":\"%s\",\"controller\":true}]},"
             "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
             "\"r/web:%s\"}]}}}}",
             n && buf[n - 1] != '[' ? "," : "", rev, created, ann, uid ? uid : "uid-web",
             rev[0] ? rev : "none");
}

#define RS_HEAD "{\"kind\":\"ReplicaSetList\",\"items\":["

TEST(history_counts_like_kubectl)
{
    static char js[16384];
    char out[4096], cont[64];
    static struct krs_history h;
    krs_history_init(&h, "uid-web", 10);
    /* page 1: revisions 1, 2, one without the annotation (0), another deployment's 7 */
    snprintf(js, sizeof js, RS_HEAD);
    rs(js, sizeof js, "1", "2026-11-01T10:00:00Z", NULL, NULL);
    rs(js, sizeof js, "2", "2026-11-02T10:00:00Z", NULL, NULL);
    rs(js, sizeof js, "", "2026-10-01T10:00:00Z", NULL, NULL);
    rs(js, sizeof js, "7", "2026-11-07T10:00:00Z", NULL, "uid-other");
    list(js, sizeof js, "p2");
    CHECK_EQ(krs_history_page(&h, js, strlen(js), cont, sizeof cont), 0);
    CHECK_STR(cont, "p2");
    /* page 2: revision 3 went live at 12:00 after creation; "x" is skipped */
    snprintf(js, sizeof js, RS_HEAD);
    rs(js, sizeof js, "3", "2026-11-03T10:00:00Z", "2026-11-05T12:00:00Z", NULL);
    rs(js, sizeof js, "x", "2026-11-03T10:00:00Z", NULL, NULL);
    list(js, sizeof js, "");
    CHECK_EQ(krs_history_page(&h, js, strlen(js), cont, sizeof cont), 0);
    CHECK_STR(cont, "");
    CHECK_EQ(h.nrevs, 4);
    CHECK_EQ(krs_history_format(&h, "default", "web", 3, 1, out, sizeof out), 4);
    CHECK_STR(out, "default/web revisions, newest first:\n"
                   "3 (current)  live 2026-11-05 12:00 UTC  r/web:3  <none>\n"
                   "2  created 2026-11-02 10:00 UTC  r/web:2  <none>\n"
                   "1  created 2026-11-01 10:00 UTC  r/web:1  <none>\n"
                   "0  created 2026-10-01 10:00 UTC  r/web:none  <none>");
    /* Slack: the date token with a plain fallback, cluster text escaped */
    CHECK_EQ(krs_history_format(&h, "default", "web", 3, 0, out, sizeof out), 4);
    CHECK(strstr(out, "*default/web* revisions, newest first:\n3 (current)  live "
                      "<!date^1793880000^{date_short_pretty} {time}|2026-11-05 12:00 UTC>") == out);
    CHECK(strstr(out, "&lt;none&gt;") != NULL);
    krs_history_free(&h);
}

/* 60 revisions over 3 pages, newest N kept: at N = KUBE_HISTORY_MAX and
 * clamped past it; a stale live-at (before the RS existed) is not shown. */
TEST(history_newest_n)
{
    static char js[65536];
    char cont[64], rev[16];
    static char out[16384];
    static struct krs_history h;
    krs_history_init(&h, "uid-web", 5);
    for (int page = 0; page < 3; page++) {
        snprintf(js, sizeof js, RS_HEAD);
        for (int i = 1; i <= 20; i++) {
            snprintf(rev, sizeof rev, "%d", (page == 1 ? 0 : page) * 20 + i + (page == 1) * 20);
            rs(js, sizeof js, rev, "2026-11-02T10:00:00Z", "2026-11-01T10:00:00Z", NULL);
        }
        list(js, sizeof js, page < 2 ? "more" : "");
        CHECK_EQ(krs_history_page(&h, js, strlen(js), cont, sizeof cont), 0);
    }
    CHECK_EQ(h.nrevs, 60);
    CHECK_EQ(krs_history_format(&h, "ns", "web", -1, 1, out, sizeof out), 5);
    CHECK(strncmp(out, "ns/web: newest 5 of 60 revisions:\n60 (current)  created 2026-11-02", 66) ==
          0);
    CHECK(strstr(out, "\n56  ") != NULL && strstr(out, "\n55  ") == NULL);
    krs_history_free(&h);
    krs_history_init(&h, "uid-web", KUBE_HISTORY_MAX + 1);
    CHECK_EQ(h.want, KUBE_HISTORY_MAX);
    krs_history_init(&h, "uid-web", 0);
    CHECK_EQ(h.want, 1);
    /* the same revision twice counts once; the later one wins (kubectl's map) */
    krs_history_init(&h, "uid-web", KUBE_HISTORY_MAX);
    snprintf(js, sizeof js, RS_HEAD);
    rs(js, sizeof js, "4", "2026-11-02T10:00:00Z", NULL, NULL);
    rs(js, sizeof js, "4", "2026-11-03T10:00:00Z", NULL, NULL);
    list(js, sizeof js, "");
    CHECK_EQ(krs_history_page(&h, js, strlen(js), cont, sizeof cont), 0);
    CHECK_EQ(h.nrevs, 1);
    CHECK_EQ(h.n, 1);
    CHECK(h.v[0].created == krs_time_parse("2026-11-03T10:00:00Z"));
    krs_history_free(&h);
}

TEST(history_malformed_pages)
{
    static char js[8192];
    char cont[64];
    static struct krs_history h;
    const char *bad[] = {"", "{", "{}", "{\"items\":{}}", "[1]"};
    krs_history_init(&h, "uid-web", 10);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(krs_history_page(&h, bad[i], strlen(bad[i]), cont, sizeof cont), -1);
    snprintf(js, sizeof js, RS_HEAD);
    rs(js, sizeof js, "1", "2026-11-02T10:00:00Z", NULL, NULL);
    list(js, sizeof js, "");
    size_t n = strlen(js);
    for (size_t k = 0; k < n; k++) {
        char *g = t_guard(js, k);
        CHECK_EQ(krs_history_page(&h, g, k, cont, sizeof cont), -1);
        t_unguard(g, k);
    }
    CHECK_EQ(h.nrevs, 0);
    krs_history_free(&h);
}

TEST(times)
{
    char b[32];
    CHECK_EQ(krs_time_parse("1970-01-01T00:00:00Z"), 0);
    CHECK_EQ(krs_time_parse("2026-11-05T12:00:00Z"), 1793880000);
    CHECK_EQ(krs_time_parse("2024-02-29T23:59:59Z"), 1709251199);
    const char *bad[] = {NULL,
                         "",
                         "2026-11-05",
                         "2026-11-05T12:00:00",
                         "2026-13-05T12:00:00Z",
                         "2026-11-05T24:00:00Z",
                         "2026-11-05T12:00:00+01:00",
                         "1969-12-31T23:59:59Z",
                         "2026-11-05T12:0a:00Z",
                         "2026-11-05T12:00:00Zx"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK_EQ(krs_time_parse(bad[i]), -1);
    krs_time_format(b, sizeof b, 1709251199);
    CHECK_STR(b, "2024-02-29T23:59:59Z");
    krs_time_format(b, sizeof b, 1793880000);
    CHECK_STR(b, "2026-11-05T12:00:00Z");
    krs_time_format(b, sizeof b, -1);
    CHECK_STR(b, "-");
    for (long long t = 0; t < 4102444800LL; t += 86400 * 37 + 3601) {
        krs_time_format(b, sizeof b, t);
        CHECK_EQ(krs_time_parse(b), t);
    }
}

/* ---- progress ---- */

static int posts;
static char posted[2048];
static int fake_post(void *ctx, const char *text)
{
    (void)ctx;
    posts++;
    snprintf(posted, sizeof posted, "%s", text);
    return 0;
}

TEST(progress_text_and_once)
{
    char out[512];
    struct kdoc_counts c = {3, 3, 1, 0, 0};
    struct kube_progress p = {"Waiting for deployment \"web\" rollout to finish: 0 of 1 updated "
                              "replicas are available...",
                              &c,
                              31500,
                              0,
                              NULL,
                              "default",
                              "web"};
    progress_text(out, sizeof out, &p, "1 of 1 new pods: ContainerCreating");
    CHECK_STR(out, ":hourglass_flowing_sand: default/web is still rolling out after 31 s: Waiting "
                   "for deployment \"web\" rollout to finish: 0 of 1 updated replicas are "
                   "available...\n1 of 1 new pods: ContainerCreating");
    progress_text(out, sizeof out, &p, "");
    CHECK(strchr(out, '\n') == NULL);
    /* not due: no post (the diagnosis needs I/O: only on the due call) */
    struct progress_slack s = {fake_post, NULL, 0};
    progress_slack(&s, &p);
    CHECK_EQ(posts, 0);
    CHECK_EQ(s.posted, 0);
    /* already posted: never a second one */
    s.posted = 1;
    p.due = 1;
    progress_slack(&s, &p);
    CHECK_EQ(posts, 0);
}

/* The CLI writes kubectl's line as it changes, and nothing on the due call. */
TEST(progress_cli_lines)
{
    char buf[512] = "";
    struct kdoc_counts c = {3, 3, 1, 0, 0};
    struct kube_progress p = {"Waiting for deployment \"web\" rollout to finish: 1 out of 3 new "
                              "replicas have been updated...",
                              &c,
                              100,
                              0,
                              NULL,
                              "default",
                              "web"};
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (!f) return;
    progress_cli(f, &p);
    p.due = 1;
    progress_cli(f, &p);
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    CHECK_STR(buf, "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have "
                   "been updated...\n");
}

int main(void)
{
    RUN(each_waiting_state);
    RUN(owner_filter_and_pages);
    RUN(kinds_at_and_past_the_limit);
    RUN(long_and_hostile_messages);
    RUN(malformed_and_truncated);
    RUN(history_counts_like_kubectl);
    RUN(history_newest_n);
    RUN(history_malformed_pages);
    RUN(times);
    RUN(progress_text_and_once);
    RUN(progress_cli_lines);
    return t_done();
}
