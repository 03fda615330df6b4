/*
 * web/auth.h: who may use the HTTP server, and over what.
 *
 * A server bound to a loopback address serves whoever can reach it, as
 * before. Bound beyond loopback it needs credentials from the configuration:
 * a bearer token (`token_sha256`, the SHA-256 of the token) and/or a user and
 * password for basic authentication (`basic_auth = USER:$sha256$SALT$HASH`,
 * HASH = SHA-256 of the salt bytes followed by the password). Only
 * `insecure_no_auth` lets it serve beyond loopback without them. Credentials
 * may carry an end (`auth_expires`): from then on every request is refused
 * as expired. `tls_cert` / `tls_key` make the server speak HTTPS through
 * libmicrohttpd's GnuTLS support.
 *
 * Nothing here keeps a secret in clear: the configuration holds hashes, and a
 * request's credentials are hashed and compared in constant time. Pure
 * functions over caller memory; no I/O, no clock (the caller passes now).
 */
#ifndef SUNWIRE_WEB_AUTH_H
#define SUNWIRE_WEB_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sha256.h"
#include "sunwire/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_HTTP_AUTH_SALT_MAX 32u

typedef struct sw_http_auth {
    bool token;                                 /* token_sha256 is set */
    uint8_t token_sha256[SW_SHA256_LEN];
    bool basic;                                 /* basic_auth is set */
    uint8_t user_sha256[SW_SHA256_LEN];         /* of the user name, so that names compare in constant time */
    uint8_t salt[SW_HTTP_AUTH_SALT_MAX];
    size_t salt_len;
    uint8_t password_sha256[SW_SHA256_LEN];     /* SHA-256(salt || password) */
    int64_t expires_unix_s;                     /* auth_expires; 0 = never */
    bool insecure_no_auth;                      /* serve beyond loopback without credentials */
    char tls_cert[256];                         /* PEM files; both or neither */
    char tls_key[256];
} sw_http_auth;

void sw_http_auth_defaults(sw_http_auth *a);
/*
 * One key of a listener's section: token_sha256, basic_auth, auth_expires,
 * insecure_no_auth, tls_cert, tls_key. SW_ERR_NOT_FOUND for any other key
 * (the caller tries its own), SW_ERR_INVALID_ARGUMENT with a message in err.
 */
sw_err sw_http_auth_config_set(sw_http_auth *a, const char *key, const char *value, char *err, size_t errcap);
/* A token or a basic user is configured. */
bool sw_http_auth_has_credentials(const sw_http_auth *a);
/* tls_cert and tls_key are both set (SW_ERR_INVALID_ARGUMENT from _check when only one is). */
bool sw_http_auth_tls(const sw_http_auth *a);
/* Checks across keys: one of tls_cert / tls_key without the other. */
sw_err sw_http_auth_check_config(const sw_http_auth *a, char *err, size_t errcap);

typedef enum sw_http_auth_verdict {
    SW_HTTP_AUTH_OK = 0,
    SW_HTTP_AUTH_MISSING,  /* no Authorization header */
    SW_HTTP_AUTH_WRONG,    /* a scheme, token, user or password that does not match (or is malformed) */
    SW_HTTP_AUTH_EXPIRED   /* credentials presented after auth_expires */
} sw_http_auth_verdict;

/* Judge a request's Authorization header (NULL = none) at now_unix_s. */
sw_http_auth_verdict sw_http_auth_check(const sw_http_auth *a, const char *authorization, int64_t now_unix_s);
const char *sw_http_auth_verdict_name(sw_http_auth_verdict v);

/* "$sha256$SALTHEX$HASHHEX" for a password and a salt (1..SW_HTTP_AUTH_SALT_MAX bytes). */
sw_err sw_http_auth_hash_password(const char *password, const uint8_t *salt, size_t salt_len, char *out, size_t cap);
/* The hex SHA-256 of a token, as token_sha256 wants it (out: 65 bytes; either case is accepted back). */
void sw_http_auth_hash_token(const char *token, char out[2 * SW_SHA256_LEN + 1]);

/*
 * Whether a bind address is loopback as text: 127.0.0.0/8, ::1,
 * ::ffff:127.x, "localhost". Anything else (0.0.0.0, ::, other addresses,
 * other names) is not.
 */
bool sw_http_bind_is_loopback(const char *bind);

#ifdef __cplusplus
}
#endif
#endif
