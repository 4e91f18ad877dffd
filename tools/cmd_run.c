/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mxverify run [OPTIONS] -- COMMAND [ARGS...]: runs an unmodified program
 * with the preload shim (like torsocks). Options become MXVERIFY_*
 * variables, checked here first so that a typo is an error now (exit 2),
 * not a program that fails closed later. LD_PRELOAD is appended to, the
 * log goes to stderr unless said otherwise, and the exit status is the
 * program's (this process becomes it).
 */
#include "cli.h"
#include "policy.h"
#include "settings.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The options are the settings table's, each exported as its MXVERIFY_*
 * variable; repeatable ones (mx, route, reference, ports) are joined with
 * commas. */
#define MAX_SETTINGS 48
#define OPT_CONF     0x200
#define OPT_HELP     0x201

static const char usage[] =
    "usage: mxverify run [--mode M] [--domain D] [--mx H]... [--route R]... [--reference N]...\n"
    "                    [--ports P,...] [--ca-file F] [--ca-path D] [--unbound-conf F]\n"
    "                    [--dnssec off|prefer|require] [--dane off|on|require] [--report-only]\n"
    "                    [--mta-sts off|on|report] [--sts-cache F] [--dns-cache F]\n"
    "                    [--log TARGET] [--log-format text|json] [--conf F] -- COMMAND [ARGS...]\n";

/* The shim sits next to libmxverify in the build tree, and in
 * ${libdir}/mxverify once installed. */
static bool shim_path(char *out, size_t len)
{
    Dl_info info;
    if (!dladdr((void *)mxv_version, &info) || !info.dli_fname)
        return false;
    const char *slash = strrchr(info.dli_fname, '/');
    if (!slash)
        return false;
    static const char *const where[] = {"", "mxverify/"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(out, len, "%.*s/%slibmxverify-preload.so", (int)(slash - info.dli_fname),
                 info.dli_fname, where[i]);
        if (access(out, R_OK) == 0)
            return true;
    }
    return false;
}

static bool append(char **joined, const char *value)
{
    size_t old = *joined ? strlen(*joined) : 0;
    char *p = realloc(*joined, old + strlen(value) + 2);
    if (!p)
        return false;
    if (old)
        p[old++] = ',';
    strcpy(p + old, value);
    *joined = p;
    return true;
}

/* The program as execvp() would find it. */
static bool find_program(const char *name, char *out, size_t len)
{
    if (strchr(name, '/')) {
        snprintf(out, len, "%s", name);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(out, len, "%.*s/%s", (int)n, n ? p : ".", name);
        if (access(out, X_OK) == 0)
            return true;
        p += n + (p[n] == ':');
    }
    return false;
}

/* A program linking a TLS library the shim does not hook. */
static void warn_other_tls(const char *image, size_t len, const char *path)
{
    static const char *const others[][2] = {
        {"libnss3.so", "NSS"}, {"libmbedtls.so", "mbed TLS"}, {"libwolfssl.so", "wolfSSL"}};
    if (memmem(image, len, "libssl.so", 9) || memmem(image, len, "libgnutls.so", 12))
        return;
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        if (memmem(image, len, others[i][0], strlen(others[i][0])))
            cli_error("warning: %s uses %s, not OpenSSL or GnuTLS: its TLS is NOT verified by "
                      "mxverify",
                      path, others[i][1]);
}

/* Static ELF programs (no interpreter) never load the shim; programs that
 * link another TLS library than OpenSSL or GnuTLS (NSS, mbed TLS,
 * wolfSSL) do their TLS where mxverify cannot see it. */
static void warn_if_unprotectable(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    Elf64_Ehdr eh;
    char *image = NULL;
    if (fstat(fd, &st) == 0 && st.st_size > (off_t)sizeof(eh) && st.st_size < (64 << 20) &&
        (image = malloc((size_t)st.st_size)) && read(fd, image, (size_t)st.st_size) == st.st_size) {
        memcpy(&eh, image, sizeof(eh));
        if (memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
            eh.e_phoff + (size_t)eh.e_phnum * sizeof(Elf64_Phdr) <= (size_t)st.st_size) {
            bool interp = false;
            const Elf64_Phdr *ph = (const Elf64_Phdr *)(image + eh.e_phoff);
            for (int i = 0; i < eh.e_phnum; i++)
                interp |= ph[i].p_type == PT_INTERP;
            if (!interp)
                cli_error("warning: %s is statically linked: LD_PRELOAD cannot reach it, so its "
                          "TLS is NOT verified by mxverify",
                          path);
            else
                warn_other_tls(image, (size_t)st.st_size, path);
        }
    }
    free(image);
    close(fd);
}

/* Everything the program will be handed, checked as the shim will read
 * it: the config file (--conf, else MXVERIFY_CONF, else /etc/mxverify.conf),
 * the MXVERIFY_* variables already set, then these options. */
static mxv_policy *check_settings(const char *conf, const mxv_setting *rows, char **values,
                                  size_t n)
{
    char err[1024];
    mxv_policy *p;
    if (conf) {
        p = mxv_policy_new();
        if (p && (!mxv_policy_load_file(p, conf, err, sizeof(err)) ||
                  !mxv_policy_load_env(p, err, sizeof(err)))) {
            mxv_policy_free(p);
            p = NULL;
        }
    } else {
        p = mxv_policy_load_default(err, sizeof(err));
    }
    if (!p) {
        cli_error("run: %s", err);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (values[i] && !mxv_policy_set(p, rows[i].key, values[i], err, sizeof(err))) {
            const char *why = strchr(err, ':');
            cli_error("--%s%s", rows[i].option, why ? why : err);
            mxv_policy_free(p);
            return NULL;
        }
    }
    /* A log file the program could not write would lose decisions: said
     * now (opened as log.c opens it, so created if absent). */
    const char *log = mxv_policy_log_file(p);
    int fd = log ? open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640) : -1;
    if (log && fd < 0) {
        cli_error("run: the log file %s cannot be written: %s", log, strerror(errno));
        mxv_policy_free(p);
        return NULL;
    }
    if (fd >= 0)
        close(fd);
    return p;
}

int cmd_run(int argc, char **argv)
{
    const mxv_setting *rows = mxv_setting_rows();
    size_t n = mxv_setting_count() < MAX_SETTINGS ? mxv_setting_count() : MAX_SETTINGS;
    struct option opts[MAX_SETTINGS + 3];
    for (size_t i = 0; i < n; i++)
        opts[i] = (struct option){
            rows[i].option, (rows[i].flags & MXV_SETTING_FLAG) ? no_argument : required_argument,
            NULL, (int)i + 1};
    opts[n] = (struct option){"conf", required_argument, NULL, OPT_CONF};
    opts[n + 1] = (struct option){"help", no_argument, NULL, OPT_HELP};
    opts[n + 2] = (struct option){0};

    char *values[MAX_SETTINGS] = {0};
    const char *conf = NULL;
    int status = EXIT_USAGE, opt;
    mxv_policy *checked = NULL;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (opt == OPT_HELP) {
            static const char *const own[][2] = {
                {"-- COMMAND [ARGS...]", "the program to run, unmodified, with the policy"},
                {NULL, NULL}};
            cli_help(usage, own, false);
            status = EXIT_VERIFIED;
            goto out;
        }
        if (opt == OPT_CONF) {
            conf = optarg;
            continue;
        }
        if (opt < 1 || opt > (int)n) {
            cli_error("run: unknown or incomplete option '%s'", argv[optind - 1]);
            fputs(usage, stderr);
            goto out;
        }
        size_t i = (size_t)opt - 1;
        const char *value = optarg ? optarg : "1";
        if ((rows[i].flags & MXV_SETTING_REPEATABLE)
                ? !append(&values[i], value)
                : (free(values[i]), !(values[i] = strdup(value)))) {
            cli_error("out of memory");
            goto out;
        }
    }
    if (optind >= argc) {
        cli_error("run: no command given");
        fputs(usage, stderr);
        goto out;
    }
    if (!(checked = check_settings(conf, rows, values, n)))
        goto out;
    char shim[4096], program[4096];
    if (!shim_path(shim, sizeof(shim))) {
        cli_error("run: cannot find libmxverify-preload.so next to libmxverify");
        goto out;
    }
    struct stat st;
    if (!find_program(argv[optind], program, sizeof(program)) || stat(program, &st) != 0) {
        cli_error("run: %s: command not found", argv[optind]);
        status = 127;
        goto out;
    }
    if (st.st_mode & (S_ISUID | S_ISGID)) {
        cli_error("run: %s is setuid/setgid: the dynamic loader ignores LD_PRELOAD for it and it "
                  "ignores MXVERIFY_* variables; refusing to pretend it is protected (such a "
                  "program, Exim for one, is reached through /etc/ld.so.preload and "
                  "/etc/mxverify.conf: see mxverify(1), GNUTLS PROGRAMS)",
                  program);
        goto out;
    }
    warn_if_unprotectable(program);
    if (!mxv_policy_any_mode(checked))
        cli_error("run: mode none for every destination: nothing will be checked (give --mode, "
                  "MXVERIFY_MODE or a mode in the configuration)");

    for (size_t i = 0; i < n; i++)
        if (values[i])
            setenv(rows[i].env, values[i], 1);
    if (conf)
        setenv("MXVERIFY_CONF", conf, 1);
    /* Under run, a person is watching: decisions go to stderr by default. */
    const mxv_setting *log = mxv_setting_find("log");
    if (!values[log - rows] && !getenv(log->env))
        setenv(log->env, "stderr", 1);
    const char *old = getenv("LD_PRELOAD");
    char *preload = NULL;
    if (old && *old && asprintf(&preload, "%s %s", old, shim) < 0)
        preload = NULL;
    setenv("LD_PRELOAD", preload ? preload : shim, 1);
    free(preload);
    mxv_policy_free(checked);
    checked = NULL;
    execv(program, argv + optind);
    cli_error("run: cannot execute %s: %s", program, strerror(errno));
    status = errno == ENOENT ? 127 : 126;
out:
    for (size_t i = 0; i < n; i++)
        free(values[i]);
    mxv_policy_free(checked);
    return status;
}
