/* slack: Slack's published signature vector, window edges, header variants,
 * the replay table (expiry, bound, reuse, checked against a model), the
 * legacy token, the command grammar, images and reply JSON. */
#include "kube.h"
#include "t.h"

#include <bearssl.h>

#include "slack.h"

/* <limits.h> would find src/limits.h first (-Isrc). */
#define LLONG_MAX __LONG_LONG_MAX__
#define LLONG_MIN (-LLONG_MAX - 1)

/* ---- signature ---------------------------------------------------------- */

static const char secret[] = "8f742231b10e8888abcd99yyyzzz85a5";
static const char vts[] = "1531420618";
static const char vbody[] =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
    "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
    "803a0bc887a14d10d2c447fce8b6703c";
static const char vsig[] = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
#define VNOW 1531420618LL

/* slack_verify on guarded copies of every input: an over-read faults. */
static enum slack_verdict verify(const char *ts, size_t tn, const char *sig, size_t sn,
                                 const char *body, size_t bn, long long now, unsigned char out[32])
{
    char *gs = t_guard(secret, sizeof secret - 1);
    char *gt = ts ? t_guard(ts, tn) : NULL;
    char *gg = sig ? t_guard(sig, sn) : NULL;
    char *gb = t_guard(body, bn);
    enum slack_verdict v = slack_verify(gs, sizeof secret - 1, gt, tn, gg, sn, gb, bn, now, out);
    t_unguard(gs, sizeof secret - 1);
    if (gt) t_unguard(gt, tn);
    if (gg) t_unguard(gg, sn);
    t_unguard(gb, bn);
    return v;
}

static enum slack_verdict verify_s(const char *ts, const char *sig, const char *body, long long now)
{
    unsigned char out[32];
    return verify(ts, ts ? strlen(ts) : 0, sig, sig ? strlen(sig) : 0, body, strlen(body), now,
                  out);
}

/* The header Slack would send for ts and body, computed independently. */
static void sign(const char *ts, const char *body, char out[68])
{
    br_hmac_key_context kc;
    br_hmac_context hc;
    unsigned char mac[32];
    br_hmac_key_init(&kc, &br_sha256_vtable, secret, sizeof secret - 1);
    br_hmac_init(&hc, &kc, 0);
    br_hmac_update(&hc, "v0:", 3);
    br_hmac_update(&hc, ts, strlen(ts));
    br_hmac_update(&hc, ":", 1);
    br_hmac_update(&hc, body, strlen(body));
    br_hmac_out(&hc, mac);
    memcpy(out, "v0=", 3);
    for (int i = 0; i < 32; i++) sprintf(out + 3 + 2 * i, "%02x", mac[i]);
}

TEST(published_vector)
{
    unsigned char out[32];
    CHECK_EQ(verify(vts, 10, vsig, 67, vbody, sizeof vbody - 1, VNOW, out), SLACK_OK);
    static const unsigned char want[4] = {0xa2, 0x11, 0x4d, 0x57};
    CHECK(memcmp(out, want, 4) == 0);
    CHECK_EQ(out[31], 0x03);
    char mine[68];
    sign(vts, vbody, mine);
    CHECK_STR(mine, vsig);
    CHECK_EQ(slack_ts_value(vts, 10), VNOW);
}

TEST(one_byte_flipped)
{
    static char b[sizeof vbody];
    char sig[68], ts[11];
    memcpy(b, vbody, sizeof vbody);
    for (size_t i = 0; i < sizeof vbody - 1; i++) {
        b[i] ^= 1;
        CHECK_EQ(verify_s(vts, vsig, b, VNOW), SLACK_BAD_SIG);
        b[i] ^= 1;
    }
    /* Each hex digit of the signature changed to another lowercase digit. */
    memcpy(sig, vsig, sizeof vsig);
    for (size_t i = 3; i < 67; i++) {
        char c = sig[i];
        sig[i] = c == '0' ? '1' : '0';
        CHECK_EQ(verify_s(vts, sig, vbody, VNOW), SLACK_BAD_SIG);
        sig[i] = c;
    }
    /* The timestamp changed by one second, still inside the window. */
    memcpy(ts, vts, sizeof vts);
    ts[9] = '9';
    CHECK_EQ(verify_s(ts, vsig, vbody, VNOW), SLACK_BAD_SIG);
    /* The body truncated by one byte, or one byte longer. */
    CHECK_EQ(verify(vts, 10, vsig, 67, vbody, sizeof vbody - 2, VNOW, (unsigned char[32]){0}),
             SLACK_BAD_SIG);
    char longer[sizeof vbody + 1];
    memcpy(longer, vbody, sizeof vbody - 1);
    longer[sizeof vbody - 1] = '&';
    longer[sizeof vbody] = 0;
    CHECK_EQ(verify_s(vts, vsig, longer, VNOW), SLACK_BAD_SIG);
}

TEST(window_edges)
{
    CHECK_EQ(verify_s(vts, vsig, vbody, VNOW + 300), SLACK_OK);
    CHECK_EQ(verify_s(vts, vsig, vbody, VNOW - 300), SLACK_OK);
    CHECK_EQ(verify_s(vts, vsig, vbody, VNOW + 301), SLACK_STALE);
    CHECK_EQ(verify_s(vts, vsig, vbody, VNOW - 301), SLACK_STALE);
    CHECK_EQ(verify_s(vts, vsig, vbody, 0), SLACK_STALE);
    CHECK_EQ(verify_s(vts, vsig, vbody, LLONG_MAX), SLACK_STALE);
    CHECK_EQ(verify_s(vts, vsig, vbody, LLONG_MIN), SLACK_STALE);
    /* Staleness is decided before the signature: a wrong one stays STALE. */
    char sig[68];
    memcpy(sig, vsig, sizeof vsig);
    sig[10] = sig[10] == 'f' ? 'e' : 'f';
    CHECK_EQ(verify_s(vts, sig, vbody, VNOW + 301), SLACK_STALE);
    CHECK_EQ(verify_s(vts, sig, vbody, VNOW + 300), SLACK_BAD_SIG);
    /* Small and huge timestamps, correctly signed. */
    sign("0", "x", sig);
    CHECK_EQ(verify_s("0", sig, "x", 300), SLACK_OK);
    CHECK_EQ(verify_s("0", sig, "x", 301), SLACK_STALE);
    CHECK_EQ(verify_s("0", sig, "x", -300), SLACK_OK);
    sign("999999999999999", "x", sig);
    CHECK_EQ(verify_s("999999999999999", sig, "x", 999999999999999LL - 300), SLACK_OK);
    CHECK_EQ(verify_s("999999999999999", sig, "x", LLONG_MIN), SLACK_STALE);
    /* Leading zeros are digits: signed as sent, so they verify. */
    sign("01531420618", vbody, sig);
    CHECK_EQ(verify_s("01531420618", sig, vbody, VNOW), SLACK_OK);
    CHECK_EQ(verify_s("01531420618", vsig, vbody, VNOW), SLACK_BAD_SIG);
}

TEST(missing_headers)
{
    CHECK_EQ(verify_s(NULL, vsig, vbody, VNOW), SLACK_MISSING);
    CHECK_EQ(verify_s(vts, NULL, vbody, VNOW), SLACK_MISSING);
    CHECK_EQ(verify_s(NULL, NULL, vbody, VNOW), SLACK_MISSING);
    /* Present but empty is malformed. */
    CHECK_EQ(verify_s("", vsig, vbody, VNOW), SLACK_MALFORMED);
    CHECK_EQ(verify_s(vts, "", vbody, VNOW), SLACK_MALFORMED);
}

TEST(header_variants)
{
    char s[80];
    /* Upper-case prefix or hex, other versions. */
    strcpy(s, vsig);
    s[0] = 'V';
    CHECK_EQ(verify_s(vts, s, vbody, VNOW), SLACK_MALFORMED);
    strcpy(s, vsig);
    s[1] = '1';
    CHECK_EQ(verify_s(vts, s, vbody, VNOW), SLACK_MALFORMED);
    strcpy(s, vsig);
    s[2] = ':';
    CHECK_EQ(verify_s(vts, s, vbody, VNOW), SLACK_MALFORMED);
    strcpy(s, vsig);
    for (char *p = s + 3; *p; p++)
        if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 32);
    CHECK_EQ(verify_s(vts, s, vbody, VNOW), SLACK_MALFORMED);
    strcpy(s, vsig);
    s[3] = 'A';
    CHECK_EQ(verify_s(vts, s, vbody, VNOW), SLACK_MALFORMED);
    /* Short, long, non-hex, whitespace, no prefix. */
    CHECK_EQ(verify(vts, 10, vsig, 66, vbody, sizeof vbody - 1, VNOW, (unsigned char[32]){0}),
             SLACK_MALFORMED);
    snprintf(s, sizeof s, "%s0", vsig);
    CHECK_EQ(verify_s(vts, s, vbody, VNOW), SLACK_MALFORMED);
    strcpy(s, vsig);
    s[40] = 'g';
    CHECK_EQ(verify_s(vts, s, vbody, VNOW), SLACK_MALFORMED);
    snprintf(s, sizeof s, " %s", vsig);
    CHECK_EQ(verify_s(vts, s, vbody, VNOW), SLACK_MALFORMED);
    snprintf(s, sizeof s, "%s ", vsig);
    CHECK_EQ(verify_s(vts, s, vbody, VNOW), SLACK_MALFORMED);
    strcpy(s, vsig);
    s[66] = '\n';
    CHECK_EQ(verify_s(vts, s, vbody, VNOW), SLACK_MALFORMED);
    CHECK_EQ(verify_s(vts, vsig + 3, vbody, VNOW), SLACK_MALFORMED);
    CHECK_EQ(verify_s(vts, "v0=", vbody, VNOW), SLACK_MALFORMED);
    /* An embedded NUL inside the claimed length. */
    memcpy(s, vsig, 68);
    s[20] = 0;
    CHECK_EQ(verify(vts, 10, s, 67, vbody, sizeof vbody - 1, VNOW, (unsigned char[32]){0}),
             SLACK_MALFORMED);
    /* Timestamps. */
    CHECK_EQ(verify_s(" 1531420618", vsig, vbody, VNOW), SLACK_MALFORMED);
    CHECK_EQ(verify_s("1531420618 ", vsig, vbody, VNOW), SLACK_MALFORMED);
    CHECK_EQ(verify_s("+1531420618", vsig, vbody, VNOW), SLACK_MALFORMED);
    CHECK_EQ(verify_s("-1531420618", vsig, vbody, VNOW), SLACK_MALFORMED);
    CHECK_EQ(verify_s("1531420618.5", vsig, vbody, VNOW), SLACK_MALFORMED);
    CHECK_EQ(verify_s("153142061x", vsig, vbody, VNOW), SLACK_MALFORMED);
    CHECK_EQ(verify_s("0x5b47c5ca", vsig, vbody, VNOW), SLACK_MALFORMED);
    /* SLACK_TS_MAX_DIGITS digits are the most: 15 parse (stale), 16 do not. */
    CHECK_EQ(verify_s("000001531420618", vsig, vbody, VNOW), SLACK_BAD_SIG);
    CHECK_EQ(verify_s("0000001531420618", vsig, vbody, VNOW), SLACK_MALFORMED);
    CHECK_EQ(verify_s("100000000000000", vsig, vbody, VNOW), SLACK_STALE);
    CHECK_EQ(slack_ts_value("0000001531420618", 16), -1);
    CHECK_EQ(slack_ts_value("", 0), -1);
    CHECK_EQ(slack_ts_value(NULL, 3), -1);
    CHECK_EQ(slack_ts_value("0", 1), 0);
}

TEST(empty_secret)
{
    unsigned char out[32];
    CHECK_EQ(slack_verify("", 0, vts, 10, vsig, 67, vbody, sizeof vbody - 1, VNOW, out),
             SLACK_BAD_SIG);
    CHECK_EQ(slack_verify(NULL, 0, vts, 10, vsig, 67, vbody, sizeof vbody - 1, VNOW, out),
             SLACK_BAD_SIG);
    /* The secret is all its bytes: one short is wrong. */
    CHECK_EQ(slack_verify(secret, sizeof secret - 2, vts, 10, vsig, 67, vbody, sizeof vbody - 1,
                          VNOW, out),
             SLACK_BAD_SIG);
    /* An empty body is fine when signed. */
    char sig[68];
    sign(vts, "", sig);
    CHECK_EQ(slack_verify(secret, sizeof secret - 1, vts, 10, sig, 67, NULL, 0, VNOW, out),
             SLACK_OK);
}

TEST(verdict_strings)
{
    for (int i = SLACK_OK; i <= SLACK_REPLAY_FULL; i++) {
        const char *s = slack_verdict_str((enum slack_verdict)i);
        CHECK(s && *s && strcmp(s, "?") != 0 && strlen(s) < 40);
        for (int j = SLACK_OK; j < i; j++)
            CHECK(strcmp(s, slack_verdict_str((enum slack_verdict)j)) != 0);
    }
    CHECK_STR(slack_verdict_str(SLACK_BAD_SIG), "bad signature");
    CHECK_STR(slack_verdict_str((enum slack_verdict)99), "?");
}

/* ---- replay table ------------------------------------------------------- */

static struct replay R;

/* A distinct signature for k whose home slot is home. */
static void mksig(unsigned char s[32], unsigned k, unsigned home)
{
    memset(s, 0, 32);
    s[0] = (unsigned char)home;
    s[1] = (unsigned char)(home >> 8);
    s[4] = (unsigned char)k;
    s[5] = (unsigned char)(k >> 8);
    s[6] = (unsigned char)(k >> 16);
    s[31] = 0x5a;
}

TEST(replay_basic)
{
    unsigned char a[32], b[32];
    replay_init(&R);
    mksig(a, 1, 7);
    mksig(b, 2, 7);
    CHECK_EQ(replay_check(&R, a, 1000, 1000), SLACK_OK);
    CHECK_EQ(replay_check(&R, a, 1000, 1000), SLACK_REPLAY);
    CHECK_EQ(replay_check(&R, b, 1000, 1000), SLACK_OK);
    /* Live until ts + 301: covers the whole window the signature verifies in. */
    CHECK_EQ(replay_check(&R, a, 1000, 1300), SLACK_REPLAY);
    CHECK_EQ(replay_check(&R, a, 1000, 1000 + SLACK_MAX_SKEW), SLACK_REPLAY);
    CHECK_EQ(replay_check(&R, a, 1000, 1000 - SLACK_MAX_SKEW), SLACK_REPLAY);
    CHECK_EQ(replay_check(&R, b, 1000, 1300), SLACK_REPLAY);
    CHECK_EQ(R.n, 2);
    /* Expired: accepted (and recorded) again. */
    CHECK_EQ(replay_check(&R, a, 1301, 1301), SLACK_OK);
    CHECK_EQ(replay_check(&R, a, 1301, 1301), SLACK_REPLAY);
    CHECK_EQ(R.n, 1); /* b was reclaimed on the way */
    replay_init(&R);
    CHECK_EQ(R.n, 0);
    CHECK_EQ(replay_check(&R, a, 1301, 1301), SLACK_OK);
    /* A timestamp near the top of long long does not overflow. */
    CHECK_EQ(replay_check(&R, b, LLONG_MAX, 0), SLACK_OK);
    CHECK_EQ(replay_check(&R, b, LLONG_MAX, LLONG_MAX - 1), SLACK_REPLAY);
}

TEST(replay_bound)
{
    unsigned char s[32];
    replay_init(&R);
    for (unsigned k = 0; k < REPLAY_SLOTS; k++) {
        mksig(s, k, k * 2654435761u % REPLAY_SLOTS);
        CHECK_EQ(replay_check(&R, s, 5000 + k % 100, 5100), SLACK_OK);
    }
    CHECK_EQ(R.n, REPLAY_SLOTS);
    mksig(s, REPLAY_SLOTS, 3);
    CHECK_EQ(replay_check(&R, s, 5100, 5100), SLACK_REPLAY_FULL);
    CHECK_EQ(replay_check(&R, s, 5100, 5100), SLACK_REPLAY_FULL); /* not recorded */
    /* Full, yet every recorded one is still a replay. */
    for (unsigned k = 0; k < REPLAY_SLOTS; k += 97) {
        unsigned char t[32];
        mksig(t, k, k * 2654435761u % REPLAY_SLOTS);
        CHECK_EQ(replay_check(&R, t, 5000 + k % 100, 5100), SLACK_REPLAY);
    }
    /* The oldest expire at 5000 + 301: exactly one slot frees per second. */
    CHECK_EQ(replay_check(&R, s, 5100, 5300), SLACK_REPLAY_FULL);
    /* 41 of them (k % 100 == 0) expire then; dead slots are reclaimed as
     * probes meet them, and never more new entries than dead ones fit. */
    for (unsigned k = 0; k < REPLAY_SLOTS / 100 + 1; k++) {
        mksig(s, REPLAY_SLOTS + 1 + k, k * 131 % REPLAY_SLOTS);
        CHECK_EQ(replay_check(&R, s, 5301, 5301), SLACK_OK);
        CHECK(R.n <= REPLAY_SLOTS);
    }
    mksig(s, 2 * REPLAY_SLOTS, 11);
    CHECK_EQ(replay_check(&R, s, 5301, 5301), SLACK_REPLAY_FULL);
    CHECK_EQ(R.n, REPLAY_SLOTS);
}

TEST(replay_reuse_after_expiry)
{
    unsigned char s[32];
    replay_init(&R);
    for (unsigned k = 0; k < REPLAY_SLOTS; k++) {
        mksig(s, k, k % REPLAY_SLOTS);
        CHECK_EQ(replay_check(&R, s, 1000, 1000), SLACK_OK);
    }
    /* All expire at 1301: a second generation fills the same slots. */
    for (unsigned k = 0; k < REPLAY_SLOTS; k++) {
        mksig(s, k + REPLAY_SLOTS, (k * 7) % REPLAY_SLOTS);
        CHECK_EQ(replay_check(&R, s, 1301, 1301), SLACK_OK);
    }
    CHECK_EQ(R.n, REPLAY_SLOTS);
    mksig(s, 3 * REPLAY_SLOTS, 0);
    CHECK_EQ(replay_check(&R, s, 1301, 1301), SLACK_REPLAY_FULL);
    /* The first generation is accepted again only once it is out of the
     * table; here it is (all expired and reclaimed), but the table is full. */
    mksig(s, 0, 0);
    CHECK_EQ(replay_check(&R, s, 1301, 1301), SLACK_REPLAY_FULL);
    for (unsigned k = 0; k < REPLAY_SLOTS; k += 61) {
        mksig(s, k + REPLAY_SLOTS, (k * 7) % REPLAY_SLOTS);
        CHECK_EQ(replay_check(&R, s, 1301, 1500), SLACK_REPLAY);
    }
}

TEST(replay_clusters_wrap)
{
    /* Many signatures sharing the last home slot: the cluster wraps to slot 0.
     * Expire every other one, then check every survivor is still found. */
    unsigned char s[32];
    replay_init(&R);
    for (unsigned k = 0; k < 200; k++) {
        mksig(s, k, REPLAY_SLOTS - 1 - (k % 3));
        CHECK_EQ(replay_check(&R, s, k % 2 ? 2000 : 1000, 1000), SLACK_OK);
    }
    /* At 1301 the even ones are dead; probing reclaims them as it goes. */
    for (unsigned k = 0; k < 200; k++) {
        mksig(s, k, REPLAY_SLOTS - 1 - (k % 3));
        CHECK_EQ(replay_check(&R, s, 2000, 1301), k % 2 ? SLACK_REPLAY : SLACK_OK);
    }
    for (unsigned k = 0; k < 200; k++) {
        mksig(s, k, REPLAY_SLOTS - 1 - (k % 3));
        CHECK_EQ(replay_check(&R, s, 2000, 1302), SLACK_REPLAY);
    }
    CHECK_EQ(R.n, 200);
}

/* The table against a model over a long random run: same verdicts, always. */
#define POOL 20000
#define T0 100000
static long long model[POOL]; /* expiry per signature, 0 = never seen */
static int dying[8000];       /* model entries that die at T0 + i */

static unsigned rng_state = 12345;
static unsigned rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

TEST(replay_model)
{
    unsigned char s[32];
    long long now = T0;
    size_t live = 0;
    replay_init(&R);
    memset(model, 0, sizeof model);
    memset(dying, 0, sizeof dying);
    int full = 0, replays = 0, bad = 0;
    for (int op = 0; op < 40000; op++) {
        if (rnd() % (op < 10000 ? 8 : 40) == 0) live -= (size_t)dying[++now - T0];
        unsigned k = rnd() % POOL;
        long long ts = now - (long long)(rnd() % (SLACK_MAX_SKEW + 1));
        /* Few homes: long clusters, wrap-around at the end of the table. */
        mksig(s, k, (REPLAY_SLOTS - 40 + (k % 80) * 37) % REPLAY_SLOTS);
        enum slack_verdict want = model[k] && now < model[k] ? SLACK_REPLAY
                                  : live == REPLAY_SLOTS     ? SLACK_REPLAY_FULL
                                                             : SLACK_OK;
        enum slack_verdict got = replay_check(&R, s, ts, now);
        if (got != want && !bad++)
            printf("  op %d k %u: got %d want %d\n", op, k, (int)got, (int)want);
        if (want == SLACK_OK) {
            model[k] = ts + SLACK_MAX_SKEW + 1;
            dying[model[k] - T0]++;
            live++;
        }
        full += want == SLACK_REPLAY_FULL;
        replays += want == SLACK_REPLAY;
    }
    CHECK(now - T0 + SLACK_MAX_SKEW + 2 < 8000);
    CHECK_EQ(bad, 0);
    CHECK(full > 0);    /* the run reaches the bound */
    CHECK(replays > 0); /* and sees replays */
}

/* ---- legacy token -------------------------------------------------------- */

TEST(token)
{
    CHECK_EQ(slack_token_ok("abc123", "abc123"), 1);
    CHECK_EQ(slack_token_ok("abc123", "abc124"), 0);
    CHECK_EQ(slack_token_ok("abc123", "abc12"), 0);
    CHECK_EQ(slack_token_ok("abc123", "abc1234"), 0);
    CHECK_EQ(slack_token_ok("abc123", "ABC123"), 0);
    CHECK_EQ(slack_token_ok("abc123", ""), 0);
    CHECK_EQ(slack_token_ok("", ""), 0);
    CHECK_EQ(slack_token_ok(NULL, NULL), 0);
    CHECK_EQ(slack_token_ok(NULL, "x"), 0);
    CHECK_EQ(slack_token_ok("x", NULL), 0);
}

/* ---- commands ------------------------------------------------------------ */

static struct command C;
static char E[256];

static int cmd(const char *text)
{
    memset(E, 'Z', sizeof E);
    size_t n = strlen(text) + 1;
    char *g = t_guard(text, n);
    int rc = cmd_parse(g, "default", &C, E, sizeof E);
    t_unguard(g, n);
    if (rc == 0 && E[0] != 0) return 99; /* err must be "" on success */
    return rc;
}

/* err for a failing text; checks the message's shape. */
static const char *cmd_err(const char *text)
{
    if (cmd(text) != -1) return "(parsed)";
    size_t n = strlen(E);
    if (n == 0 || n >= 200) return "(bad length)";
    for (size_t i = 0; i < n; i++)
        if (E[i] < 0x20 || E[i] > 0x7e || E[i] == '<' || E[i] == '>' || E[i] == '&')
            return "(unsafe byte)";
    return E;
}

static int has(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

TEST(cmd_help)
{
    const char *ok[] = {"",     " ",        "\t \t",        "help",        "HELP",
                        "Help", "  help  ", "\xc2\xa0help", "\n\rhelp\r\n"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        CHECK_EQ(cmd(ok[i]), 0);
        CHECK_EQ(C.verb, CMD_HELP);
    }
    CHECK_EQ(cmd_parse(NULL, "default", &C, E, sizeof E), 0);
    CHECK_EQ(C.verb, CMD_HELP);
    CHECK(has(cmd_err("help me"), "help takes no arguments"));
    CHECK(has(cmd_err("help 1.4"), "namespace/help"));
    CHECK_STR(cmd_verb_str(CMD_HELP), "help");
    CHECK_STR(cmd_verb_str(CMD_DEPLOY), "deploy");
    CHECK_STR(cmd_verb_str(CMD_STATUS), "status");
    CHECK_STR(cmd_verb_str(CMD_HISTORY), "history");
    CHECK_STR(cmd_verb_str(CMD_ROLLBACK), "rollback");
    CHECK_STR(cmd_verb_str(CMD_RESTART), "restart");
    CHECK_STR(cmd_verb_str((enum cmd_verb)42), "?");
    CHECK(has(cmd_usage, "status"));
    CHECK(has(cmd_usage, "rollback"));
    CHECK(!has(cmd_usage, "<")); /* pre-escaped mrkdwn */
}

TEST(cmd_deploy)
{
    CHECK_EQ(cmd("myservice 1.4"), 0);
    CHECK_EQ(C.verb, CMD_DEPLOY);
    CHECK_STR(C.ns, "default");
    CHECK_STR(C.name, "myservice");
    CHECK_STR(C.version, "1.4");
    CHECK_EQ(C.revision, 0);
    CHECK_EQ(cmd("  staging/api \t v2.0.1-rc1_b  "), 0);
    CHECK_STR(C.ns, "staging");
    CHECK_STR(C.name, "api");
    CHECK_STR(C.version, "v2.0.1-rc1_b");
    CHECK_EQ(cmd("api\xc2\xa0\xc2\xa0"
                 "1.4"),
             0); /* non-breaking spaces */
    CHECK_STR(C.name, "api");
    CHECK_STR(C.version, "1.4");
    CHECK_EQ(cmd("my.app.v2 _latest"), 0);
    CHECK_STR(C.name, "my.app.v2");
    CHECK_STR(C.version, "_latest");
    CHECK_EQ(cmd("a 1"), 0);
    CHECK_EQ(cmd("0/0 0"), 0);
    CHECK_STR(C.ns, "0");
    CHECK_EQ(cmd("api sha256:" HEX64), 0);
    CHECK_STR(C.version, "sha256:" HEX64);
    CHECK_EQ(cmd("api @sha256:" HEX64), 0);
    CHECK_STR(C.version, "sha256:" HEX64);
    /* Keywords win as a first word; a namespace makes them deployments. */
    CHECK_EQ(cmd("prod/status 1.4"), 0);
    CHECK_EQ(C.verb, CMD_DEPLOY);
    CHECK_STR(C.name, "status");
    CHECK_EQ(cmd("default/rollback 2"), 0);
    CHECK_EQ(C.verb, CMD_DEPLOY);
    CHECK_STR(C.name, "rollback");
    CHECK_EQ(cmd("deploy 1.4"), 0); /* "deploy" is not a keyword */
    CHECK_STR(C.name, "deploy");
}

/* -c NAME / --container NAME / --container=NAME choose the container. */
TEST(cmd_container)
{
    static const char *const ok[] = {"shop 1.4 -c app",
                                     "shop -c app 1.4",
                                     "shop 1.4 --container app",
                                     "shop 1.4 --container=app",
                                     "shop 1.4 -C app",
                                     ("shop\xc2\xa0"
                                      "1.4 -c\tapp")};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        CHECK_EQ(cmd(ok[i]), 0);
        CHECK_EQ(C.verb, CMD_DEPLOY);
        CHECK_STR(C.name, "shop");
        CHECK_STR(C.version, "1.4");
        CHECK_STR(C.container, "app");
    }
    CHECK_EQ(cmd("shop 1.4"), 0);
    CHECK_STR(C.container, "");
    CHECK(has(cmd_err("shop 1.4 -c"), "-c needs a container name"));
    CHECK(has(cmd_err("shop 1.4 -c App"), "Not a valid container name"));
    CHECK(has(cmd_err("shop 1.4 -c a_b"), "Not a valid container name"));
    CHECK(has(cmd_err("shop 1.4 --container="), "Too many words")); /* not the option */
    CHECK(has(cmd_err("shop 1.4 -c a b"), "Too many words"));
    CHECK(has(cmd_err("shop -c a"), "Missing version"));
    CHECK(has(cmd_err("status shop -c a"), "Too many words"));
    /* a name at the limit (63) and one past it */
    char t[128], n64[65];
    memset(n64, 'a', 64);
    n64[64] = 0;
    snprintf(t, sizeof t, "shop 1.4 -c %.63s", n64);
    CHECK_EQ(cmd(t), 0);
    CHECK_EQ(strlen(C.container), 63);
    snprintf(t, sizeof t, "shop 1.4 -c %s", n64);
    CHECK(has(cmd_err(t), "Not a valid container name"));
    CHECK(has(cmd_usage, "-c"));
}

TEST(cmd_other_verbs)
{
    CHECK_EQ(cmd("status api"), 0);
    CHECK_EQ(C.verb, CMD_STATUS);
    CHECK_STR(C.name, "api");
    CHECK_STR(C.ns, "default");
    CHECK_EQ(cmd("Status prod/api"), 0);
    CHECK_EQ(C.verb, CMD_STATUS);
    CHECK_STR(C.ns, "prod");
    CHECK_EQ(cmd("history api"), 0);
    CHECK_EQ(C.verb, CMD_HISTORY);
    CHECK_EQ(cmd("status 1.4"), 0); /* a deployment may be named 1.4 */
    CHECK_STR(C.name, "1.4");
    CHECK_EQ(cmd("rollback api"), 0);
    CHECK_EQ(C.verb, CMD_ROLLBACK);
    CHECK_EQ(C.revision, 0);
    CHECK_EQ(cmd("rollback prod/api 3"), 0);
    CHECK_EQ(C.revision, 3);
    CHECK_EQ(cmd("ROLLBACK api 2147483648"), 0);
    CHECK_EQ(C.revision, 2147483648L);
    CHECK_EQ(cmd("rollback api 007"), 0);
    CHECK_EQ(C.revision, 7);
    CHECK(has(cmd_err("rollback api 2147483649"), "Not a valid revision"));
    CHECK(has(cmd_err("rollback api 0"), "Not a valid revision"));
    CHECK(has(cmd_err("rollback api -1"), "Not a valid revision"));
    CHECK(has(cmd_err("rollback api +1"), "Not a valid revision"));
    CHECK(has(cmd_err("rollback api 1.5"), "Not a valid revision"));
    CHECK(has(cmd_err("rollback api 99999999999999999999999"), "Not a valid revision"));
    CHECK(has(cmd_err("rollback api 3 4"), "Too many words"));
    CHECK_EQ(cmd("Restart prod/api"), 0);
    CHECK_EQ(C.verb, CMD_RESTART);
    CHECK_STR(C.ns, "prod");
    CHECK_STR(C.name, "api");
    CHECK(has(cmd_err("restart"), "restart needs a target"));
    CHECK(has(cmd_err("restart api 2"), "Too many words: write restart"));
    CHECK_EQ(cmd("default/restart 1.4"), 0); /* a deployment named restart */
    CHECK_EQ(C.verb, CMD_DEPLOY);
    CHECK(has(cmd_err("rollback"), "rollback needs a target"));
    CHECK(has(cmd_err("status"), "status needs a target"));
    CHECK(has(cmd_err("history"), "history needs a target"));
    CHECK(has(cmd_err("status api 2"), "Too many words: write status"));
    /* issue 9: history [N], N from 1 to KUBE_HISTORY_MAX */
    CHECK(
        has(cmd_err("history api x"), "Not a number of revisions: \"x\" (history shows 1 to 20)"));
    CHECK_EQ(cmd("history api"), 0);
    CHECK_EQ(C.revision, 0);
    CHECK_EQ(cmd("history prod/api 1"), 0);
    CHECK_EQ(C.revision, 1);
    CHECK_EQ(cmd("History api 20"), 0);
    CHECK_EQ(C.verb, CMD_HISTORY);
    CHECK_EQ(C.revision, KUBE_HISTORY_MAX);
    CHECK(has(cmd_err("history api 21"), "Not a number of revisions"));
    CHECK(has(cmd_err("history api 0"), "Not a number of revisions"));
    CHECK(has(cmd_err("history api -3"), "Not a number of revisions"));
    CHECK(has(cmd_err("history api 99999999999999999999999"), "Not a number of revisions"));
    CHECK(has(cmd_err("history api 3 4"),
              "Too many words: write history [namespace/]deployment [N]"));
    CHECK(has(cmd_err("status API"), "Not a valid deployment name"));
    CHECK(has(cmd_err("history Prod/api"), "Not a valid namespace"));
}

TEST(cmd_bad_deploy)
{
    CHECK(has(cmd_err("api"), "Missing version"));
    CHECK(has(cmd_err("api:1.4"), "two words"));
    CHECK(has(cmd_err("api@sha256:" HEX64), "two words"));
    CHECK(has(cmd_err("api 1.4 extra"), "Too many words"));
    CHECK(has(cmd_err("a b c d e f"), "Too many words"));
    CHECK(has(cmd_err("deploy api 1.4"), "Drop the word deploy"));
    /* Images, not versions. */
    CHECK(has(cmd_err("api registry.io/app:1.4"), "not an image: \"registry.io/app:1.4\""));
    CHECK(has(cmd_err("api app:1.4"), "not an image"));
    CHECK(has(cmd_err("api 1.4/x"), "not an image"));
    CHECK(has(cmd_err("api @latest"), "not an image"));
    CHECK(has(cmd_err("api app@sha256:" HEX64), "not an image"));
    CHECK(has(cmd_err("registry.io/app:1.4 1.4"), "not an image"));
    CHECK(has(cmd_err("api sha256:" HEX64 "0"), "Not a valid digest"));
    CHECK(has(cmd_err("api sha256:0123"), "Not a valid digest"));
    CHECK(
        has(cmd_err("api sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"),
            "Not a valid digest"));
    CHECK(has(cmd_err("api @sha256:"), "Not a valid digest"));
    CHECK(has(cmd_err("api sha512:" HEX64), "not an image"));
    /* Tags. */
    CHECK(has(cmd_err("api .1"), "Not a valid version"));
    CHECK(has(cmd_err("api -1"), "Not a valid version"));
    CHECK(has(cmd_err("api 1+2"), "Not a valid version"));
    CHECK(has(cmd_err("api 1\xc3\xa9"), "Not a valid version"));
    /* Names. */
    CHECK(has(cmd_err("API 1.4"), "Not a valid deployment name"));
    CHECK(has(cmd_err("-api 1.4"), "Not a valid deployment name"));
    CHECK(has(cmd_err("api- 1.4"), "Not a valid deployment name"));
    CHECK(has(cmd_err("a..b 1.4"), "Not a valid deployment name"));
    CHECK(has(cmd_err(".a 1.4"), "Not a valid deployment name"));
    CHECK(has(cmd_err("a. 1.4"), "Not a valid deployment name"));
    CHECK(has(cmd_err("a-.b 1.4"), "Not a valid deployment name"));
    CHECK(has(cmd_err("a_b 1.4"), "Not a valid deployment name"));
    CHECK(has(cmd_err("ns/ 1.4"), "Not a valid deployment name"));
    CHECK(has(cmd_err("/api 1.4"), "Missing namespace"));
    CHECK(has(cmd_err("a/b/c 1.4"), "Not a valid target"));
    CHECK(has(cmd_err("Prod/api 1.4"), "Not a valid namespace"));
    CHECK(has(cmd_err("pr.od/api 1.4"), "Not a valid namespace"));
    CHECK(has(cmd_err("-prod/api 1.4"), "Not a valid namespace"));
    CHECK(has(cmd_err("prod-/api 1.4"), "Not a valid namespace"));
}

TEST(cmd_bounds)
{
    char t[CMD_MAX_TEXT + 8], name[K8S_NAME_MAX + 2];
    /* Namespace: 63 ok, 64 not. */
    memset(t, 'n', K8S_NS_MAX);
    strcpy(t + K8S_NS_MAX, "/api 1");
    CHECK_EQ(cmd(t), 0);
    CHECK_EQ(strlen(C.ns), K8S_NS_MAX);
    memset(t, 'n', K8S_NS_MAX + 1);
    strcpy(t + K8S_NS_MAX + 1, "/api 1");
    CHECK(has(cmd_err(t), "Not a valid namespace"));
    /* Deployment: 253 ok (labels of 63 and dots), 254 not. */
    memset(name, 'a', K8S_NAME_MAX);
    name[63] = name[127] = name[191] = '.';
    name[K8S_NAME_MAX] = 0;
    snprintf(t, sizeof t, "%s 1", name);
    CHECK_EQ(cmd(t), 0);
    CHECK_EQ(strlen(C.name), K8S_NAME_MAX);
    snprintf(t, sizeof t, "%sa 1", name);
    CHECK(has(cmd_err(t), "Not a valid deployment name"));
    /* A subdomain label may exceed 63 (Kubernetes checks only the total). */
    memset(name, 'b', 100);
    name[100] = 0;
    snprintf(t, sizeof t, "%s 1", name);
    CHECK_EQ(cmd(t), 0);
    /* Tag: 128 ok, 129 not. */
    memcpy(t, "api ", 4);
    memset(t + 4, 'v', VERSION_MAX);
    t[4 + VERSION_MAX] = 0;
    CHECK_EQ(cmd(t), 0);
    CHECK_EQ(strlen(C.version), VERSION_MAX);
    t[4 + VERSION_MAX] = 'v';
    t[5 + VERSION_MAX] = 0;
    CHECK(has(cmd_err(t), "Not a valid version"));
    /* Text: CMD_MAX_TEXT bytes ok, one more not. */
    memset(t, ' ', CMD_MAX_TEXT);
    memcpy(t, "api", 3);
    t[CMD_MAX_TEXT - 1] = '1';
    t[CMD_MAX_TEXT] = 0;
    t[100] = '\t';
    CHECK_EQ(cmd(t), 0);
    CHECK_STR(C.version, "1");
    t[CMD_MAX_TEXT] = ' ';
    t[CMD_MAX_TEXT + 1] = 0;
    CHECK(has(cmd_err(t), "too long"));
}

TEST(cmd_error_echo)
{
    char t[400];
    /* At most 40 bytes of input quoted, then "...". */
    memcpy(t, "api ", 4);
    memset(t + 4, 'x', 300);
    t[4 + 150] = '/';
    t[304] = 0;
    const char *e = cmd_err(t);
    CHECK(has(e, "not an image"));
    CHECK(has(e, "xxx...\""));
    CHECK(strlen(e) < 100);
    /* Control, non-ASCII and mrkdwn specials come back as '?'. */
    CHECK(has(cmd_err("api <!channel>&\x01\xc3\xa9:"), "\"?!channel?????:\""));
    CHECK(has(cmd_err("<@U123>/api 1"), "not an image"));
    CHECK(!has(cmd_err("<@U123>/api 1"), "<"));
    /* Small or missing err buffers. */
    char small[8];
    CHECK_EQ(cmd_parse("api", "default", &C, small, sizeof small), -1);
    CHECK_EQ(strlen(small), 7);
    CHECK_EQ(cmd_parse("api", "default", &C, NULL, 0), -1);
    CHECK_EQ(cmd_parse("api 1", "default", &C, NULL, 0), 0);
}

TEST(cmd_default_ns)
{
    CHECK_EQ(cmd_parse("api 1", "staging", &C, E, sizeof E), 0);
    CHECK_STR(C.ns, "staging");
    CHECK_EQ(cmd_parse("api 1", NULL, &C, E, sizeof E), -1);
    CHECK(has(E, "default namespace"));
    CHECK_EQ(cmd_parse("api 1", "Bad_NS", &C, E, sizeof E), -1);
    CHECK_EQ(cmd_parse("api 1", "", &C, E, sizeof E), -1);
    CHECK_EQ(cmd_parse("prod/api 1", NULL, &C, E, sizeof E), 0); /* not needed */
    CHECK_STR(C.ns, "prod");
}

/* The image a deploy sets: kdoc_image_ref over what cmd_parse accepted
 * (the ack's audit line and the PATCH use that one function). */
static int image_of(const char *base, char *out, size_t cap)
{
    char err[128];
    if (C.verb != CMD_DEPLOY) return -1;
    return kdoc_image_ref(out, cap, base, C.name, C.version, err, sizeof err);
}

TEST(image)
{
    char out[IMAGE_MAX];
    const char *base = "123456789.dkr.ecr.us-east-1.amazonaws.com";
    CHECK_EQ(cmd("myservice 1.4"), 0);
    CHECK_EQ(image_of(base, out, sizeof out), 0);
    CHECK_STR(out, "123456789.dkr.ecr.us-east-1.amazonaws.com/myservice:1.4");
    CHECK_EQ(image_of("reg.io/team/", out, sizeof out), 0);
    CHECK_STR(out, "reg.io/team/myservice:1.4");
    CHECK_EQ(image_of("reg.io//", out, sizeof out), 0);
    CHECK_STR(out, "reg.io/myservice:1.4");
    CHECK_EQ(cmd("prod/api @sha256:" HEX64), 0);
    CHECK_EQ(image_of("r", out, sizeof out), 0);
    CHECK_STR(out, "r/api@sha256:" HEX64);
    /* Exactly fits, one short. */
    CHECK_EQ(cmd("myservice 1.4"), 0);
    size_t need = strlen("r/myservice:1.4") + 1;
    CHECK_EQ(image_of("r", out, need), 0);
    CHECK_STR(out, "r/myservice:1.4");
    CHECK_EQ(image_of("r", out, need - 1), -1);
    CHECK_STR(out, "");
    CHECK_EQ(image_of("", out, sizeof out), -1);
    CHECK_EQ(image_of("/", out, sizeof out), -1);
    CHECK_EQ(image_of(NULL, out, sizeof out), -1);
    CHECK_EQ(image_of("r", out, 0), -1);
    CHECK_EQ(cmd("status api"), 0);
    CHECK_EQ(image_of("r", out, sizeof out), -1); /* no version */
}

/* ---- replies ------------------------------------------------------------- */

TEST(reply_json)
{
    char buf[256];
    long n = slack_reply_json(buf, sizeof buf, 1, "<@U123> deployed \"api\"");
    CHECK_STR(buf, "{\"response_type\":\"in_channel\",\"text\":\"<@U123> deployed \\\"api\\\"\"}");
    CHECK_EQ(n, (long)strlen(buf));
    n = slack_reply_json(buf, sizeof buf, 0, "a\nb");
    CHECK_STR(buf, "{\"response_type\":\"ephemeral\",\"text\":\"a\\nb\"}");
    CHECK_EQ(n, (long)strlen(buf));
    CHECK_EQ(slack_reply_json(buf, sizeof buf, 0, NULL), 39);
    CHECK_STR(buf, "{\"response_type\":\"ephemeral\",\"text\":\"\"}");
    CHECK_EQ(slack_reply_json(buf, 20, 0, "x"), -1);
    CHECK_EQ(slack_reply_json(buf, 40, 0, ""), 39); /* and its NUL */
    CHECK_EQ(slack_reply_json(buf, 39, 0, ""), -1);
}

TEST(escape_text)
{
    char out[64];
    slack_escape_text("a<b>&c <!channel>", out, sizeof out);
    CHECK_STR(out, "a&lt;b&gt;&amp;c &lt;!channel&gt;");
    slack_escape_text("&", out, 5);
    CHECK_STR(out, ""); /* "&amp;" needs 6 bytes */
    slack_escape_text("&", out, 6);
    CHECK_STR(out, "&amp;");
    slack_escape_text("ab\xc3\xa9", out, 4);
    CHECK_STR(out, "ab"); /* never half a character */
    slack_escape_text("ab\xc3\xa9", out, 5);
    CHECK_STR(out, "ab\xc3\xa9");
    slack_escape_text("\xe2\x82\xac\xe2\x82\xac", out, 6);
    CHECK_STR(out, "\xe2\x82\xac");
    slack_escape_text("\xc3x", out, sizeof out); /* broken UTF-8 is left to jw_str */
    CHECK_STR(out, "\xc3x");
    slack_escape_text(NULL, out, sizeof out);
    CHECK_STR(out, "");
    out[0] = 'q';
    slack_escape_text("abc", out, 0);
    CHECK_EQ(out[0], 'q');
    slack_escape_text("abc", out, 1);
    CHECK_STR(out, "");
}

int main(void)
{
    RUN(published_vector);
    RUN(one_byte_flipped);
    RUN(window_edges);
    RUN(missing_headers);
    RUN(header_variants);
    RUN(empty_secret);
    RUN(verdict_strings);
    RUN(replay_basic);
    RUN(replay_bound);
    RUN(replay_reuse_after_expiry);
    RUN(replay_clusters_wrap);
    RUN(replay_model);
    RUN(token);
    RUN(cmd_help);
    RUN(cmd_deploy);
    RUN(cmd_container);
    RUN(cmd_other_verbs);
    RUN(cmd_bad_deploy);
    RUN(cmd_bounds);
    RUN(cmd_error_echo);
    RUN(cmd_default_ns);
    RUN(image);
    RUN(reply_json);
    RUN(escape_text);
    return t_done();
}
