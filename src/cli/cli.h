/*
 * cli.h: the program's subcommand groups.
 *
 * main.c picks a group and a persona from argv[0] and the first argument; each
 * group parses its own arguments. A persona decides which help text, version
 * string and defaults a group presents: run as `taptap` the Tigo group behaves
 * exactly like taptap 0.2.0, run as `rctclient` the RCT group like rctclient.
 */
#ifndef SUNWIRE_CLI_H
#define SUNWIRE_CLI_H

typedef enum sw_persona {
    SW_PERSONA_SUNWIRE = 0,
    SW_PERSONA_TAPTAP,
    SW_PERSONA_RCTCLIENT
} sw_persona;

/*
 * Each group gets its arguments with argv[0] being the group's own name and
 * `prog` the text to show in usage lines ("taptap", "sunwire tigo", ...).
 * Returns the process exit code.
 */
int sw_cli_tigo(int argc, char **argv, const char *prog, sw_persona persona);
int sw_cli_rct(int argc, char **argv, const char *prog, sw_persona persona);

/* Top-level commands: argv[0] is the command's own name ("run", "history", "demo"). */
int sw_cli_run(int argc, char **argv);
int sw_cli_history(int argc, char **argv);
int sw_cli_demo(int argc, char **argv);
int sw_cli_hash_password(int argc, char **argv);

#endif
