/* Unit tests of the deploy rules that are pure: image references (kimage.c),
 * container choice with -c and by repository, init containers of the same
 * repository in the set-image patch, and who else manages a deployment
 * (kdoc_manager). */
#include <stdio.h>
#include <string.h>

#include "../../src/kdoc.h"
#include "../../src/kimage.h"
#include "t.h"

#define DIG "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

TEST(image_repo)
{
    char out[IMAGE_MAX];
    static const char *const cases[][2] = {
        {"reg:5000/team/frontend:1.3", "reg:5000/team/frontend"},
        {"reg:5000/team/frontend:1.3@" DIG, "reg:5000/team/frontend"},
        {"reg:5000/team/frontend@" DIG, "reg:5000/team/frontend"},
        {"reg:5000/team/frontend", "reg:5000/team/frontend"},
        {"frontend", "frontend"},
        {"frontend:latest", "frontend"},
        {"localhost:5000/x", "localhost:5000/x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_EQ(kimage_repo(cases[i][0], out, sizeof out), (long)strlen(cases[i][1]));
        CHECK_STR(out, cases[i][1]);
    }
    CHECK_EQ(kimage_repo("", out, sizeof out), -1);
    CHECK_EQ(kimage_repo(":1.3", out, sizeof out), -1);
    CHECK_EQ(kimage_repo("@" DIG, out, sizeof out), -1);
    CHECK_EQ(kimage_repo(NULL, out, sizeof out), -1);
    /* at the limit and one past it */
    CHECK_EQ(kimage_repo("abc:1", out, 4), 3);
    CHECK_EQ(kimage_repo("abcd:1", out, 4), -1);
    CHECK_STR(out, "");
}

TEST(image_version)
{
    char v[64];
    kimage_version("reg/app:1.3", v, sizeof v);
    CHECK_STR(v, "1.3");
    kimage_version("reg/app:1.3@" DIG, v, sizeof v);
    CHECK_STR(v, "1.3");
    kimage_version("reg/app@" DIG, v, sizeof v);
    CHECK_STR(v, "sha256:0123456789ab");
    kimage_version("reg:5000/app", v, sizeof v);
    CHECK_STR(v, "untagged");
    kimage_version("reg/app:1.3", v, 3);
    CHECK_STR(v, "1.");
}

TEST(image_with_version)
{
    char out[IMAGE_MAX], err[128];
    CHECK_EQ(
        kimage_with_version(out, sizeof out, "reg:5000/team/frontend:1.3", "1.4", err, sizeof err),
        0);
    CHECK_STR(out, "reg:5000/team/frontend:1.4");
    CHECK_EQ(kimage_with_version(out, sizeof out, "reg:5000/team/frontend:1.3@" DIG, "1.4", err,
                                 sizeof err),
             0);
    CHECK_STR(out, "reg:5000/team/frontend:1.4");
    CHECK_EQ(kimage_with_version(out, sizeof out, "reg:5000/team/frontend", "1.4", err, sizeof err),
             0);
    CHECK_STR(out, "reg:5000/team/frontend:1.4");
    CHECK_EQ(kimage_with_version(out, sizeof out, "reg/frontend:1.3", DIG, err, sizeof err), 0);
    CHECK_STR(out, "reg/frontend@" DIG);
    /* versions are tags or digests, never references */
    static const char *const bad[] = {"", "r/x:1", "a:b", "-1", ".1", "sha256:abc", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(kimage_with_version(out, sizeof out, "reg/app:1", bad[i], err, sizeof err), -1);
        CHECK_STR(out, "");
    }
    CHECK_EQ(kimage_with_version(out, sizeof out, ":1", "1.4", err, sizeof err), -1);
    CHECK_STR(err, "the container's image has no repository");
    /* "r/a:1.4" is 7 bytes: fits in 8, not in 7 */
    CHECK_EQ(kimage_with_version(out, 8, "r/a:1.3", "1.4", err, sizeof err), 0);
    CHECK_EQ(kimage_with_version(out, 7, "r/a:1.3", "1.4", err, sizeof err), -1);
    CHECK_STR(out, "");
}

TEST(image_allowed)
{
    CHECK_EQ(kimage_allowed(NULL, "any/thing"), 1);
    CHECK_EQ(kimage_allowed("", "any/thing"), 1);
    CHECK_EQ(kimage_allowed("reg.example", "reg.example/app"), 1);
    CHECK_EQ(kimage_allowed("reg.example/", "reg.example/app"), 1);
    CHECK_EQ(kimage_allowed("reg.example/team", "reg.example/team/app"), 1);
    CHECK_EQ(kimage_allowed("reg.example/team", "reg.example/team"), 1);
    CHECK_EQ(kimage_allowed("reg.example/team", "reg.example/teamx/app"), 0);
    CHECK_EQ(kimage_allowed("reg.example", "reg.example.evil/app"), 0);
    CHECK_EQ(kimage_allowed("other.example,reg.example", "reg.example/app"), 1);
    CHECK_EQ(kimage_allowed("other.example, reg.example/", "reg.example/app"), 1);
    CHECK_EQ(kimage_allowed("other.example,,", "reg.example/app"), 0);
    CHECK_EQ(kimage_allowed(",", "reg.example/app"), 0);
    CHECK_EQ(kimage_same_repo("r/a:1", "r/a@" DIG), 1);
    CHECK_EQ(kimage_same_repo("r/a:1", "r/ab:1"), 0);
    CHECK_EQ(kimage_same_repo("", ""), 0);
    CHECK_STR(kimage_last_elem("reg:5000/team/frontend"), "frontend");
    CHECK_STR(kimage_last_elem("frontend"), "frontend");
}

/* A Deployment "shop" with the given containers/initContainers JSON and metadata. */
static char *shop(char *buf, size_t cap, const char *cs, const char *inits, const char *meta)
{
    snprintf(buf, cap,
             "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"shop\"%s},\"spec\":{\"template\":"
             "{\"spec\":{%s%s%s\"containers\":%s}}}}",
             meta ? meta : "", inits ? "\"initContainers\":" : "", inits ? inits : "",
             inits ? "," : "", cs);
    return buf;
}

TEST(choose)
{
    char b[2048], c[256], img[IMAGE_MAX], err[512];
    struct {
        const char *cs, *want, *name, *image, *err;
    } t[] = {
        /* the one named like the deployment */
        {"[{\"name\":\"app\",\"image\":\"r/shop:1\"},{\"name\":\"shop\",\"image\":\"r/x:1\"}]",
         NULL, "shop", "r/x:1", NULL},
        /* the only one */
        {"[{\"name\":\"app\",\"image\":\"reg.example/frontend:2.0\"}]", NULL, "app",
         "reg.example/frontend:2.0", NULL},
        /* the one whose repository ends in the deployment's name */
        {"[{\"name\":\"app\",\"image\":\"r/team/shop:1\"},{\"name\":\"envoy\",\"image\":"
         "\"envoy:1\"}]",
         NULL, "app", "r/team/shop:1", NULL},
        /* two such: refused */
        {"[{\"name\":\"a\",\"image\":\"r/shop:1\"},{\"name\":\"b\",\"image\":\"q/shop:1\"}]", NULL,
         "", "", "deployment shop has 2 containers and none is named shop: a, b"},
        /* none: refused with the list */
        {"[{\"name\":\"app\",\"image\":\"r/front:1\"},{\"name\":\"envoy\",\"image\":\"envoy:1\"}]",
         NULL, "", "", "deployment shop has 2 containers and none is named shop: app, envoy"},
        /* -c wins over the name */
        {"[{\"name\":\"shop\",\"image\":\"r/a:1\"},{\"name\":\"envoy\",\"image\":\"envoy:1\"}]",
         "envoy", "envoy", "envoy:1", NULL},
        /* -c naming no container: refused, never another one */
        {"[{\"name\":\"shop\",\"image\":\"r/a:1\"}]", "web", "", "",
         "deployment shop has no container named web; its containers: shop"},
        /* -c never picks an init container */
        {"[{\"name\":\"shop\",\"image\":\"r/a:1\"}]", "migrate", "", "",
         "deployment shop has no container named migrate; its containers: shop"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        shop(b, sizeof b, t[i].cs, "[{\"name\":\"migrate\",\"image\":\"r/a:1\"}]", NULL);
        int rc = kdoc_choose_container(b, strlen(b), "shop", t[i].want, c, sizeof c, img,
                                       sizeof img, err, sizeof err);
        CHECK_EQ(rc, t[i].err ? -1 : 0);
        CHECK_STR(c, t[i].name);
        CHECK_STR(img, t[i].image);
        if (t[i].err) CHECK_STR(err, t[i].err);
    }
    /* "" as want is no -c */
    shop(b, sizeof b, "[{\"name\":\"app\",\"image\":\"r/x:1\"}]", NULL, NULL);
    CHECK_EQ(kdoc_choose_container(b, strlen(b), "shop", "", c, sizeof c, img, sizeof img, err,
                                   sizeof err),
             0);
    CHECK_STR(c, "app");
}

TEST(image_of)
{
    char b[2048];
    struct kdeploy d;
    shop(b, sizeof b, "[{\"name\":\"app\",\"image\":\"r/x:1\"}]",
         "[{\"name\":\"migrate\",\"image\":\"r/x:0\"}]", NULL);
    CHECK_EQ(kdoc_deploy_parse(b, strlen(b), &d), 0);
    CHECK_STR(kdoc_image_of(&d, "app", 0), "r/x:1");
    CHECK_STR(kdoc_image_of(&d, "migrate", 1), "r/x:0");
    CHECK(kdoc_image_of(&d, "migrate", 0) == NULL);
    CHECK(kdoc_image_of(&d, "nope", 0) == NULL);
    kdoc_deploy_free(&d);
}

TEST(patch_with_inits)
{
    char b[1024];
    const char *inits[] = {"migrate", "seed"};
    long n = kdoc_set_image_patch(b, sizeof b, "app", "r/x:2", inits, 2, "c");
    CHECK_STR(b, "{\"metadata\":{\"annotations\":{\"kubernetes.io/change-cause\":\"c\"}},"
                 "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":"
                 "\"r/x:2\"}],\"initContainers\":[{\"name\":\"migrate\",\"image\":\"r/x:2\"},{"
                 "\"name\":\"seed\",\"image\":\"r/x:2\"}]}}}}");
    CHECK_EQ(n, (long)strlen(b));
    CHECK_EQ(kdoc_set_image_patch(b, (size_t)n + 1, "app", "r/x:2", inits, 2, "c"), n);
    CHECK_EQ(kdoc_set_image_patch(b, (size_t)n, "app", "r/x:2", inits, 2, "c"), -1);
    /* no init containers: no initContainers key */
    n = kdoc_set_image_patch(b, sizeof b, "app", "r/x:2", NULL, 0, NULL);
    CHECK(n > 0 && strstr(b, "initContainers") == NULL);
}

TEST(manager)
{
    char b[2048];
    struct kdeploy d;
    struct {
        const char *meta, *want;
    } t[] = {
        {NULL, ""},
        {",\"labels\":{\"app\":\"shop\"}", ""},
        {",\"annotations\":{\"argocd.argoproj.io/tracking-id\":\"shop:apps/Deployment:d/shop\"}",
         "Argo CD (annotation argocd.argoproj.io/tracking-id=shop:apps/Deployment:d/shop)"},
        {",\"labels\":{\"app.kubernetes.io/instance\":\"shop\"}",
         "Argo CD (label app.kubernetes.io/instance=shop)"},
        {",\"labels\":{\"kustomize.toolkit.fluxcd.io/name\":\"apps\"}",
         "Flux (label kustomize.toolkit.fluxcd.io/name=apps)"},
        {",\"labels\":{\"helm.toolkit.fluxcd.io/name\":\"shop\",\"app.kubernetes.io/managed-by\":"
         "\"Helm\"}",
         "Flux (label helm.toolkit.fluxcd.io/name=shop)"},
        {",\"labels\":{\"app.kubernetes.io/managed-by\":\"Helm\",\"app.kubernetes.io/instance\":"
         "\"shop\"}",
         "Helm (label app.kubernetes.io/managed-by=Helm)"},
        {",\"labels\":{\"app.kubernetes.io/managed-by\":\"kustomize\"}", ""},
        {",\"annotations\":{\"meta.helm.sh/release-name\":\"shop\"}",
         "Helm (annotation meta.helm.sh/release-name=shop)"},
        /* a value with control characters is cleaned */
        {",\"annotations\":{\"meta.helm.sh/release-name\":\"a\\nb\"}",
         "Helm (annotation meta.helm.sh/release-name=a b)"},
        /* a label that is not a string still marks it */
        {",\"labels\":{\"argocd.argoproj.io/instance\":7}",
         "Argo CD (label argocd.argoproj.io/instance)"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        shop(b, sizeof b, "[{\"name\":\"shop\",\"image\":\"r/x:1\"}]", NULL, t[i].meta);
        CHECK_EQ(kdoc_deploy_parse(b, strlen(b), &d), 0);
        CHECK_STR(d.manager, t[i].want);
        kdoc_deploy_free(&d);
    }
}

int main(void)
{
    RUN(image_repo);
    RUN(image_version);
    RUN(image_with_version);
    RUN(image_allowed);
    RUN(choose);
    RUN(image_of);
    RUN(patch_with_inits);
    RUN(manager);
    return t_done();
}
