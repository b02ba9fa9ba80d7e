/* TLS client certificates: keys made by openssl in the test (RSA PKCS#1,
 * EC SEC1 with its EC PARAMETERS block, PKCS#8 RSA and EC), refusals
 * (encrypted, mismatched, missing, malformed), and a live handshake
 * against a python3 server that requires a client certificate. */
#include "t.h"

#include "tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

static char dir[64], err[256];
static int made;

#include <sys/stat.h>

static char *slurp(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 16);
    *len = fread(buf, 1, (1 << 16) - 1, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

/* CA, a server certificate for localhost, and client certificates. */
static int make_keys(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_tlscert.%d", (int)getpid());
    static const char *steps[] = {
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj /CN=test-ca "
        "-days 2 2>/dev/null && "
        "printf 'subjectAltName=DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > srv.ext && "
        "printf 'extendedKeyUsage=clientAuth\\n' > cli.ext && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key "
        "-out srv.csr -subj /CN=localhost 2>/dev/null && "
        "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
        "-extfile srv.ext -out srv.pem 2>/dev/null",
        "openssl genrsa -traditional -out rsa1.key 2048 2>/dev/null && "
        "openssl ecparam -name prime256v1 -genkey -out sec1.key 2>/dev/null && "
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out p8rsa.key 2>/dev/null "
        "&& "
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p8ec.key 2>/dev/null "
        "&& "
        "openssl pkcs8 -topk8 -in p8rsa.key -passout pass:x -out enc.key 2>/dev/null",
        "for k in rsa1 sec1 p8rsa p8ec; do "
        "openssl req -new -key $k.key -subj /CN=user-$k -out $k.csr 2>/dev/null && "
        "openssl x509 -req -in $k.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
        "-extfile cli.ext -out $k.pem 2>/dev/null || exit 1; done && "
        "cat rsa1.pem ca.pem > chain.pem",
    };
    /* The test works in its own directory. */
    if (mkdir(dir, 0700) < 0 || chdir(dir) < 0) return -1;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (system(steps[i]) != 0) return -1;
    return 0;
}

static int load(struct tls_client_cert *c, const char *cert, const char *key)
{
    size_t cl = 0, kl = 0;
    char *cp = slurp(cert, &cl), *kp = slurp(key, &kl);
    err[0] = 0;
    int r = cp && kp ? tls_client_cert_load(c, cp, cl, kp, kl, err, sizeof err) : -2;
    free(cp);
    free(kp);
    return r;
}

TEST(keys_made)
{
    made = make_keys() == 0;
    CHECK(made);
}

TEST(load_each_key_form)
{
    static const struct {
        const char *name;
        int type;
    } forms[] = {{"rsa1", BR_KEYTYPE_RSA},
                 {"sec1", BR_KEYTYPE_EC},
                 {"p8rsa", BR_KEYTYPE_RSA},
                 {"p8ec", BR_KEYTYPE_EC}};
    if (!made) return;
    for (size_t i = 0; i < 4; i++) {
        char cert[32], key[32];
        struct tls_client_cert c;
        snprintf(cert, sizeof cert, "%s.pem", forms[i].name);
        snprintf(key, sizeof key, "%s.key", forms[i].name);
        CHECK_EQ(load(&c, cert, key), 0);
        if (err[0]) printf("  %s: %s\n", forms[i].name, err);
        CHECK_EQ(c.key_type, forms[i].type);
        CHECK_EQ(c.n, 1);
        tls_client_cert_free(&c);
        CHECK(c.n == 0 && c.chain == NULL && c.key_type == 0);
    }
    struct tls_client_cert c;
    CHECK_EQ(load(&c, "chain.pem", "rsa1.key"), 0);
    CHECK_EQ(c.n, 2);
    tls_client_cert_free(&c);
}

TEST(refusals)
{
    struct tls_client_cert c;
    if (!made) return;
    CHECK_EQ(load(&c, "rsa1.pem", "sec1.key"), -1);
    CHECK(strstr(err, "does not belong") != NULL);
    CHECK_EQ(load(&c, "sec1.pem", "p8ec.key"), -1); /* EC, other curve */
    CHECK(strstr(err, "does not belong") != NULL);
    CHECK_EQ(load(&c, "p8rsa.pem", "rsa1.key"), -1); /* RSA, other modulus */
    CHECK(strstr(err, "does not belong") != NULL);
    CHECK_EQ(load(&c, "p8rsa.pem", "enc.key"), -1);
    CHECK(strstr(err, "encrypted") != NULL);
    CHECK_EQ(load(&c, "rsa1.key", "rsa1.key"), -1);
    CHECK(strstr(err, "no CERTIFICATE") != NULL);
    CHECK_EQ(load(&c, "rsa1.pem", "rsa1.pem"), -1);
    CHECK(strstr(err, "no RSA, EC or PKCS#8") != NULL);
    CHECK(c.chain == NULL && c.n == 0);

    static const char junk_key[] =
        "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n";
    size_t cl;
    char *cp = slurp("rsa1.pem", &cl);
    CHECK_EQ(tls_client_cert_load(&c, cp, cl, junk_key, strlen(junk_key), err, sizeof err), -1);
    CHECK(strstr(err, "not understood") != NULL);
    /* two keys */
    size_t kl;
    char *kp = slurp("rsa1.key", &kl), two[8192];
    snprintf(two, sizeof two, "%s%s", kp, kp);
    CHECK_EQ(tls_client_cert_load(&c, cp, cl, two, strlen(two), err, sizeof err), -1);
    CHECK(strstr(err, "more than one private key") != NULL);
    /* every prefix of the key: refused cleanly or (the whole) loaded */
    for (size_t i = 0; i < kl; i += (i + 40 < kl ? 7 : 1)) {
        char *g = t_guard(kp, i);
        int r = tls_client_cert_load(&c, cp, cl, g, i, err, sizeof err);
        /* BearSSL ends an object at a line starting "-----END" */
        CHECK(r == -1 || memmem(g, i, "-----END", 8) != NULL);
        if (r == 0) tls_client_cert_free(&c);
        t_unguard(g, i);
    }
    free(cp);
    free(kp);
}

TEST(chain_limit)
{
    if (!made) return;
    size_t cl, kl;
    char *cp = slurp("rsa1.pem", &cl), *kp = slurp("rsa1.key", &kl);
    char *many = malloc(cl * 9 + 1);
    struct tls_client_cert c;
    for (int i = 0; i < 9; i++) memcpy(many + cl * (size_t)i, cp, cl);
    CHECK_EQ(tls_client_cert_load(&c, many, cl * 8, kp, kl, err, sizeof err), 0);
    CHECK_EQ(c.n, 8);
    tls_client_cert_free(&c);
    CHECK_EQ(tls_client_cert_load(&c, many, cl * 9, kp, kl, err, sizeof err), -1);
    CHECK(strstr(err, "more than 8") != NULL);
    free(many);
    free(cp);
    free(kp);
}

/* A server that requires a client certificate from our CA and answers
 * with the certificate's CN. */
static const char server_py[] =
    "import socket,ssl,sys,os\n"
    "d=sys.argv[1]\n"
    "ctx=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "ctx.load_cert_chain(d+'/srv.pem',d+'/srv.key')\n"
    "ctx.load_verify_locations(d+'/ca.pem')\n"
    "ctx.verify_mode=ssl.CERT_REQUIRED\n"
    "s=socket.socket();s.bind(('127.0.0.1',0));s.listen(8);s.settimeout(60)\n"
    "print(s.getsockname()[1],flush=True)\n"
    "while True:\n"
    "  c,_=s.accept()\n"
    "  try:\n"
    "    t=ctx.wrap_socket(c,server_side=True)\n"
    "    cn=dict(x[0] for x in t.getpeercert()['subject'])['commonName']\n"
    "    t.sendall(('CN='+cn+'\\n').encode());t.unwrap()\n"
    "  except Exception as e: pass\n"
    "  c.close()\n";

static pid_t srv_pid;
static int srv_port;

static int start_server(void)
{
    int out[2];
    if (pipe(out) < 0) return -1;
    srv_pid = fork();
    if (srv_pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        execlp("python3", "python3", "-c", server_py, dir, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    /* Read the whole line; the pipe stays open while the server runs. */
    char buf[16] = "";
    size_t n = 0;
    while (n < sizeof buf - 1 && !strchr(buf, '\n')) {
        ssize_t k = read(out[0], buf + n, sizeof buf - 1 - n);
        if (k <= 0) break;
        n += (size_t)k;
    }
    srv_port = strchr(buf, '\n') ? atoi(buf) : 0;
    return srv_port > 0 ? 0 : -1;
}

/* One connection with cert (may be NULL); the server's answer in got. */
static int talk(const struct tls_client_cert *cert, char *got, size_t cap)
{
    struct tls_anchors a = {0};
    size_t cl;
    char *ca = slurp("ca.pem", &cl);
    int r = -1, fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct tls_conn *c = malloc(sizeof *c);
    got[0] = 0;
    if (tls_anchors_add_pem(&a, ca, cl, err, sizeof err) != 1) goto out;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) goto out;
    if (tls_open_cert(c, fd, &a, cert, "localhost", 10, err, sizeof err) < 0) goto out;
    long k = tls_read(c, got, cap - 1, 10, err, sizeof err);
    if (k > 0) {
        got[k] = 0;
        r = 0;
    }
    tls_close(c);
out:
    close(fd);
    free(c);
    free(ca);
    tls_anchors_free(&a);
    return r;
}

TEST(live_client_auth)
{
    if (!made) return;
    CHECK_EQ(start_server(), 0);
    if (!srv_port) return;
    static const char *names[] = {"rsa1", "sec1", "p8rsa", "p8ec"};
    char got[128], want[64];
    for (size_t i = 0; i < 4; i++) {
        struct tls_client_cert cert;
        char c[32], k[32];
        snprintf(c, sizeof c, "%s.pem", names[i]);
        snprintf(k, sizeof k, "%s.key", names[i]);
        CHECK_EQ(load(&cert, c, k), 0);
        CHECK_EQ(talk(&cert, got, sizeof got), 0);
        snprintf(want, sizeof want, "CN=user-%s\n", names[i]);
        CHECK_STR(got, want);
        if (strcmp(got, want) != 0) printf("  %s: %s\n", names[i], err);
        tls_client_cert_free(&cert);
    }
    /* without a certificate the server refuses the handshake */
    CHECK_EQ(talk(NULL, got, sizeof got), -1);
    CHECK(got[0] == 0);
    kill(srv_pid, SIGTERM);
    waitpid(srv_pid, NULL, 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(keys_made);
    RUN(load_each_key_form);
    RUN(refusals);
    RUN(chain_limit);
    RUN(live_client_auth);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (chdir("/") == 0 && strncmp(dir, "/tmp/test_tlscert.", 18) == 0 && system(cmd) != 0)
        printf("  could not remove %s\n", dir);
    return t_done();
}
