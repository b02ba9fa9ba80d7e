/* cmd_parse on arbitrary text, kdoc_image_ref on success; every result obeys the
 * grammar and every error is one short line of safe printable ASCII. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8sname.h"
#include "kdoc.h"
#include "slack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[CMD_MAX_TEXT + 64], err[200], img[IMAGE_MAX], esc[3 * 64 + 1];
    struct command c;
    if (size > sizeof text - 1) size = sizeof text - 1;
    memcpy(text, data, size);
    text[size] = 0;
    if (cmd_parse(text, "default", &c, err, sizeof err) != 0) {
        size_t n = strlen(err);
        if (n == 0 || n >= sizeof err - 1) abort();
        for (size_t i = 0; i < n; i++)
            if (err[i] < 0x20 || err[i] > 0x7e || err[i] == '<' || err[i] == '>' || err[i] == '&')
                abort();
        return 0;
    }
    if (err[0]) abort();
    if (c.verb != CMD_HELP) {
        if (!k8sname_ns_ok(c.ns, strlen(c.ns)) || !k8sname_name_ok(c.name, strlen(c.name))) abort();
    }
    if (c.verb == CMD_DEPLOY) {
        if (!k8sname_version_ok(c.version, strlen(c.version))) abort();
        char ierr[128];
        if (kdoc_image_ref(img, sizeof img, "123456789.dkr.ecr.us-east-1.amazonaws.com/", c.name,
                           c.version, ierr, sizeof ierr) != 0)
            abort(); /* always fits: 44 + 1 + 253 + 1 + 128 < IMAGE_MAX */
        if (strchr(img, ' ')) abort();
    } else if (c.version[0]) {
        abort();
    }
    /* -c NAME: only for deploy, and then a DNS-1123 label */
    if (c.container[0] &&
        (c.verb != CMD_DEPLOY || !k8sname_ns_ok(c.container, strlen(c.container))))
        abort();
    if (c.verb != CMD_ROLLBACK && c.verb != CMD_HISTORY && c.revision != 0) abort();
    if (c.revision < 0 || c.revision > 2147483648L) abort();
    slack_escape_text(text, esc, sizeof esc);
    if (strchr(esc, '<') || strchr(esc, '>')) abort();
    return 0;
}
