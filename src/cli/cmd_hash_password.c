/*
 * cmd_hash_password.c: `sunwire hash-password`, the hashes the HTTP server's
 * configuration keeps instead of passwords and tokens (docs/dashboard.md).
 *
 * The secret is read from standard input (one line; a terminal does not echo
 * it), never from the command line, where other users could see it.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "web/auth.h"

static void usage(FILE *f)
{
    fputs("Usage: sunwire hash-password [--user NAME | --token | --new-token]\n"
          "\n"
          "Print what the [http] and [prometheus] sections store instead of a secret. The\n"
          "password or token is read from standard input (one line).\n"
          "\n"
          "  --user NAME   basic_auth = NAME:$sha256$SALT$HASH for this user's password\n"
          "  --token       token_sha256 = HASH of a bearer token\n"
          "  --new-token   make a random bearer token; print it once, and its token_sha256\n"
          "  (none)        $sha256$SALT$HASH of a password\n"
          "  -h, --help    this text\n",
          f);
}

static int fill_random(uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* One line of standard input without its line end; the terminal's echo is off meanwhile. */
static int read_secret(const char *what, char *out, size_t cap)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "%s: ", what);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool ok = fgets(out, (int)cap, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!ok)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return out[0] ? 0 : -1;
}

int sw_cli_hash_password(int argc, char **argv)
{
    const char *user = NULL;
    bool token = false, new_token = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc && argv[i + 1][0]) {
            user = argv[++i];
        } else if (strcmp(argv[i], "--token") == 0) {
            token = true;
        } else if (strcmp(argv[i], "--new-token") == 0) {
            new_token = true;
        } else {
            fprintf(stderr, "sunwire hash-password: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if ((user != NULL) + token + new_token > 1 || (user && strpbrk(user, ": \t"))) {
        fprintf(stderr, "sunwire hash-password: choose one of --user NAME (without ':' or spaces), --token, "
                        "--new-token\n");
        return 2;
    }
    char secret[1024], hash[128];
    if (new_token) {
        uint8_t r[32];
        static const char hx[] = "0123456789abcdef";
        if (fill_random(r, sizeof r) != 0) {
            fprintf(stderr, "sunwire hash-password: no random bytes from the system\n");
            return 1;
        }
        for (size_t i = 0; i < sizeof r; i++) {
            secret[2 * i] = hx[r[i] >> 4];
            secret[2 * i + 1] = hx[r[i] & 15];
        }
        secret[2 * sizeof r] = '\0';
        sw_http_auth_hash_token(secret, hash);
        printf("# the token, for clients (Authorization: Bearer ...); it is not stored anywhere\n"
               "token = %s\n# for the configuration\ntoken_sha256 = %s\n", secret, hash);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (read_secret(token ? "Token" : "Password", secret, sizeof secret) != 0) {
        fprintf(stderr, "sunwire hash-password: no %s on standard input\n", token ? "token" : "password");
        return 1;
    }
    if (token) {
        sw_http_auth_hash_token(secret, hash);
        printf("token_sha256 = %s\n", hash);
    } else {
        uint8_t salt[16];
        if (fill_random(salt, sizeof salt) != 0 ||
            sw_http_auth_hash_password(secret, salt, sizeof salt, hash, sizeof hash) != SW_OK) {
            fprintf(stderr, "sunwire hash-password: no random bytes from the system\n");
            return 1;
        }
        if (user)
            printf("basic_auth = %s:%s\n", user, hash);
        else
            printf("%s\n", hash);
    }
    memset(secret, 0, sizeof secret);
    return fflush(stdout) == 0 ? 0 : 1;
}
